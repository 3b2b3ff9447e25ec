"""REST resource of quote validity timers: /api/v1/quotes/{quote_id}/timers."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import quote_validity

router = APIRouter(tags=["quote timers"])


class QuoteTimerView(BaseModel):
    quote_id: UUID
    valid_until: dt.date
    time_zone: str
    due_at: dt.datetime = Field(description="the start of the day after valid_until in the quote's zone")
    fired_at: dt.datetime | None


class QuoteTimersView(BaseModel):
    quote_id: UUID
    timers: list[QuoteTimerView] = Field(description="the validity timer; it stays listed once fired")


@router.get("/quotes/{quote_id}/timers", response_model=QuoteTimersView, dependencies=[Depends(any_role)])
async def get_quote_timers(quote_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> QuoteTimersView:
    """404 when the scheduler holds no timer of the quote: unknown to it, or approved, rejected or
    expired before its validity ended."""
    t = await quote_validity.get_timer(ctx.uow(), quote_id)
    return QuoteTimersView(quote_id=quote_id, timers=[QuoteTimerView(
        quote_id=t.quote_id, valid_until=t.valid_until, time_zone=t.time_zone, due_at=t.due_at, fired_at=t.fired_at)])
