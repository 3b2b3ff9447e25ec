"""What the analytics API and the dashboard ask (adapters/cycle_times.py, and the calendar part's
renewals pipeline), each read in one short transaction."""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services.projection.adapters import cycle_times as tables
from services.projection.adapters import renewal_calendar

PHASES = tables.PHASES
PIPELINE_DAYS = 90


async def cycle_times(engine: AsyncEngine, *, ended_from: dt.date | None = None, ended_to: dt.date | None = None,
                      group_by: str | None = None) -> list[dict]:
    async with engine.connect() as conn:
        return await tables.cycle_times(conn, ended_from=ended_from, ended_to=ended_to, group_by=group_by)


async def bottlenecks(engine: AsyncEngine, now: dt.datetime, *, top: int) -> list[dict]:
    async with engine.connect() as conn:
        return await tables.bottlenecks(conn, now, top=top)


async def overridden_clauses(engine: AsyncEngine, *, flagged_from: dt.date | None = None,
                             flagged_to: dt.date | None = None, limit: int) -> list[dict]:
    async with engine.connect() as conn:
        return await tables.overridden_clauses(conn, flagged_from=flagged_from, flagged_to=flagged_to, limit=limit)


@dataclass(frozen=True)
class Dashboard:
    cycle: list[dict]
    waiting: list[dict]
    clauses: list[dict]
    pipeline: list[dict]


async def dashboard(engine: AsyncEngine, now: dt.datetime) -> Dashboard:
    """Everything the page draws, read together."""
    async with engine.connect() as conn:
        return Dashboard(cycle=await tables.cycle_times(conn), waiting=await tables.bottlenecks(conn, now, top=5),
                         clauses=await tables.overridden_clauses(conn, limit=10),
                         pipeline=await renewal_calendar.renewals_pipeline(conn, now.date(), PIPELINE_DAYS))
