"""REST resource of obligation timers (phase 7): /api/v1/obligations/{obligation_id}/timers, what
the scheduler will announce when (and what it announced), for support and for the curious."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import obligation_dates

router = APIRouter(tags=["obligation timers"])


class ObligationTimerView(BaseModel):
    due_on: dt.date = Field(description="the occurrence")
    mark: Literal["due", "overdue"]
    number: int = Field(description="0 for due; the overdue notice's number (1 the day after, then every "
                                    "OBLIGATION_OVERDUE_REPEAT_DAYS)")
    due_at: dt.datetime
    fired_at: dt.datetime | None


class ObligationTimersView(BaseModel):
    obligation_id: UUID
    timers: list[ObligationTimerView] = Field(description="in due order; they stay listed once fired, unfired ones "
                                                          "go when the occurrence is completed or the obligation canceled")


@router.get("/obligations/{obligation_id}/timers", response_model=ObligationTimersView,
            dependencies=[Depends(any_role)])
async def obligation_timers(obligation_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ObligationTimersView:
    rows = await obligation_dates.get_timers(ctx.uow(), obligation_id)
    return ObligationTimersView(obligation_id=obligation_id, timers=[
        ObligationTimerView(due_on=r.due_on, mark=r.mark, number=r.number, due_at=r.due_at, fired_at=r.fired_at)
        for r in rows])
