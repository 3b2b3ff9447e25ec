"""REST resource of vendor contracts' date timers: /api/v1/operational-contracts/{contract_id}/timers."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import operational_contract_dates

router = APIRouter(tags=["operational contract timers"])


class OperationalContractTimerView(BaseModel):
    kind: Literal["start", "end"]
    date: dt.date = Field(description="the start date, or the end date (due the day after it)")
    time_zone: str
    due_at: dt.datetime
    fired_at: dt.datetime | None


class OperationalContractTimersView(BaseModel):
    contract_id: UUID
    timers: list[OperationalContractTimerView] = Field(description="in due order; they stay listed once fired")


@router.get("/operational-contracts/{contract_id}/timers", response_model=OperationalContractTimersView,
            dependencies=[Depends(any_role)])
async def get_operational_contract_timers(contract_id: UUID,
                                          ctx: Annotated[ServiceContext, Depends(context)]) -> OperationalContractTimersView:
    """404 when the scheduler holds no timer of the contract: unknown to it (a contract from
    contracting has the legal contract's timers), or canceled or expired before one fired."""
    rows = await operational_contract_dates.get_timers(ctx.uow(), contract_id)
    return OperationalContractTimersView(contract_id=contract_id, timers=[OperationalContractTimerView(
        kind=r.kind, date=r.date, time_zone=r.time_zone, due_at=r.due_at, fired_at=r.fired_at) for r in rows])
