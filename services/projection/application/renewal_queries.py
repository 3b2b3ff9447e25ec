"""What the renewals API asks of the renewal calendar, read in one short transaction (the rules of
what is in the pipeline and what is at risk are adapters/renewal_calendar.py's queries)."""

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from services.projection.adapters import renewal_calendar as calendar


async def pipeline(engine: AsyncEngine, today: dt.date, within_days: int, limit: int) -> list[dict]:
    async with engine.connect() as conn:
        return await calendar.renewals_pipeline(conn, today, within_days, limit=limit)


async def at_risk(engine: AsyncEngine, today: dt.date, limit: int) -> list[dict]:
    async with engine.connect() as conn:
        return await calendar.at_risk(conn, today, limit=limit)
