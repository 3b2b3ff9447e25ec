"""REST resource of renewal deadline timers: /api/v1/contracts/{contract_id}/renewal-deadlines."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import renewal_deadlines

router = APIRouter(tags=["renewal deadlines"])


class RenewalDeadlineView(BaseModel):
    task_id: UUID = Field(description="the period's renewal task (asset_coverage's /renewal-tasks/{id})")
    end_date: dt.date
    days_before: int
    time_zone: str
    due_at: dt.datetime
    fired_at: dt.datetime | None
    skipped: bool = Field(description="passed while a later deadline of the period was due too: not announced")


class RenewalDeadlinesView(BaseModel):
    contract_id: UUID
    deadlines: list[RenewalDeadlineView]


@router.get("/contracts/{contract_id}/renewal-deadlines", response_model=RenewalDeadlinesView,
            dependencies=[Depends(any_role)])
async def get_renewal_deadlines(contract_id: UUID,
                                ctx: Annotated[ServiceContext, Depends(context)]) -> RenewalDeadlinesView:
    """The deadlines the scheduler keeps for the contract's periods, fired or not (none: unknown)."""
    rows = await renewal_deadlines.timers_of(ctx.uow(), contract_id)
    return RenewalDeadlinesView(contract_id=contract_id, deadlines=[RenewalDeadlineView(
        task_id=r.task_id, end_date=r.end_date, days_before=r.days_before, time_zone=r.time_zone, due_at=r.due_at,
        fired_at=r.fired_at, skipped=r.skipped) for r in rows])
