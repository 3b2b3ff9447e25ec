"""Durable timers of quote validity: one row per quote, due when its valid-until date ends.

A row stays after it fires (`fired_at`) so a revision can tell a new due instant from the one
already fired; a quote that ends otherwise (approved, rejected, expired) loses its unfired row.
The partial index on unfired timers makes a sweep cost what is due, not what exists.
"""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

quote_timers = sa.Table(
    "quote_timers",
    metadata,
    sa.Column("quote_id", sa.Uuid, primary_key=True),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Index("quote_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def set_timer(conn: AsyncConnection, quote_id: UUID, valid_until: dt.date, time_zone: str,
                    due_at: dt.datetime) -> None:
    """Creates or moves the quote's timer; one whose due instant changes is unfired again, one
    whose instant stays is left as it is (fired or not)."""
    statement = insert(quote_timers).values(quote_id=quote_id, valid_until=valid_until, time_zone=time_zone,
                                            due_at=due_at, fired_at=None)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[quote_timers.c.quote_id],
        set_={"valid_until": valid_until, "time_zone": time_zone, "due_at": due_at, "fired_at": None},
        where=quote_timers.c.due_at != statement.excluded.due_at,
    ))


async def drop_unfired(conn: AsyncConnection, quote_id: UUID) -> None:
    t = quote_timers.c
    await conn.execute(quote_timers.delete().where(t.quote_id == quote_id, t.fired_at.is_(None)))


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, quote_timers, now, limit)


async def mark_fired(conn: AsyncConnection, quote_ids: list[UUID], now: dt.datetime) -> None:
    if quote_ids:
        await conn.execute(quote_timers.update().where(quote_timers.c.quote_id.in_(quote_ids)).values(fired_at=now))


async def timer_of(conn: AsyncConnection, quote_id: UUID):
    return (await conn.execute(sa.select(quote_timers).where(quote_timers.c.quote_id == quote_id))).one_or_none()
