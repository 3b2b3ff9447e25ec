"""REST resources of the scheduler: /api/v1/schedules and the (test-only) clock."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Role, any_role, require_roles
from shared.backbone.clock import AdjustableClock
from shared.backbone.errors import ConflictingState
from services.lifecycle_scheduler.application import scheduling

router = APIRouter(tags=["schedules"])


class ScheduleView(BaseModel):
    contract_id: UUID
    end_date: dt.date | None
    time_zone: str
    expires_at: dt.datetime | None
    expired: bool
    version: int


class ClockView(BaseModel):
    now: dt.datetime
    adjustable: bool


class SetClock(BaseModel):
    now: AwareDatetime


@router.get("/schedules/{contract_id}", response_model=ScheduleView, dependencies=[Depends(any_role)])
async def get_schedule(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ScheduleView:
    s = await scheduling.get_schedule(ctx.uow(), contract_id)
    return ScheduleView(contract_id=contract_id, end_date=s.end_date, time_zone=s.time_zone,
                        expires_at=s.due_at, expired=s.expired, version=s.version)


@router.get("/clock", response_model=ClockView, dependencies=[Depends(any_role)])
async def get_clock(ctx: Annotated[ServiceContext, Depends(context)]) -> ClockView:
    return ClockView(now=ctx.clock.now(), adjustable=isinstance(ctx.clock, AdjustableClock))


@router.put("/clock", response_model=ClockView, dependencies=[Depends(require_roles(Role.SRE))])
async def set_clock(body: SetClock, ctx: Annotated[ServiceContext, Depends(context)]) -> ClockView:
    """Moves the scheduler's time. Only where ALLOW_CLOCK_CONTROL=true (dev and test stacks)."""
    if not isinstance(ctx.clock, AdjustableClock):
        raise ConflictingState("clock.control_disabled", "this scheduler runs on the system clock", field="now")
    ctx.clock.set(body.now)
    return ClockView(now=ctx.clock.now(), adjustable=True)
