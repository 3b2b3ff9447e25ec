"""REST resources of the scheduler: /api/v1/schedules. (Its clock is the shared /api/v1/ops/clock.)"""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import scheduling

router = APIRouter(tags=["schedules"])


class ScheduleView(BaseModel):
    contract_id: UUID
    end_date: dt.date | None
    time_zone: str
    expires_at: dt.datetime | None
    expired: bool
    version: int


@router.get("/schedules/{contract_id}", response_model=ScheduleView, dependencies=[Depends(any_role)])
async def get_schedule(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ScheduleView:
    s = await scheduling.get_schedule(ctx.uow(), contract_id)
    return ScheduleView(contract_id=contract_id, end_date=s.end_date, time_zone=s.time_zone,
                        expires_at=s.due_at, expired=s.expired, version=s.version)
