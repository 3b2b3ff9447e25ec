"""REST resource of contract period timers: /api/v1/contracts/{contract_id}/period-timers."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import contract_periods

router = APIRouter(tags=["contract periods"])


class PeriodTimerView(BaseModel):
    period_number: int
    anchor: str = Field(description="cancel_by or end (a reminder before that date), or period_end",
                        examples=["cancel_by"])
    days_before: int = Field(description="days before the anchor date; 0 for the period end")
    anchor_date: dt.date = Field(description="the cancel-by date, or the period's end date")
    time_zone: str
    due_at: dt.datetime = Field(description="the start of the reminder's day (the day after the end for period_end)")
    fired_at: dt.datetime | None
    skipped: bool = Field(description="passed while a later reminder of its anchor was due too: not announced")


class PeriodTimersView(BaseModel):
    contract_id: UUID
    timers: list[PeriodTimerView]


@router.get("/contracts/{contract_id}/period-timers", response_model=PeriodTimersView,
            dependencies=[Depends(any_role)])
async def get_period_timers(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> PeriodTimersView:
    """The timers the scheduler keeps for the contract's periods, fired or not (none: no renewal
    terms known, or not in force yet)."""
    rows = await contract_periods.timers_of(ctx.uow(), contract_id)
    return PeriodTimersView(contract_id=contract_id, timers=[PeriodTimerView(
        period_number=r.period_number, anchor=r.anchor, days_before=r.days_before, anchor_date=r.anchor_date,
        time_zone=r.time_zone, due_at=r.due_at, fired_at=r.fired_at, skipped=r.skipped) for r in rows])
