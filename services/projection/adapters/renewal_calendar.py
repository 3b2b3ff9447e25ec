"""PLACEHOLDER (dropped at merge): the renewals pipeline is written by the calendar part of issue 14.
Here only so the dashboard imports it; it returns no rows."""

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection


async def renewals_pipeline(conn: AsyncConnection, today: dt.date, within_days: int) -> list[dict]:
    """Rows: contract_id, number, title, anchor, date, period_number, renewal, value, currency,
    acknowledged, termination_given."""
    return []
