"""Durable timers of link dates: one row per link and date kind (start, end), due when the first day
with the new coverage begins. Kept in step with asset_coverage's link events in the consumer's
transaction; a row stays after it fires so a revision can tell a new date from one already fired."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

link_timers = sa.Table(
    "link_timers",
    metadata,
    sa.Column("link_id", sa.Uuid, primary_key=True),
    sa.Column("which", sa.Text, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("asset_id", sa.Text, nullable=False),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Index("link_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def set_timer(conn: AsyncConnection, link_id: UUID, which: str, contract_id: UUID, asset_id: str,
                    on: dt.date, due_at: dt.datetime) -> None:
    """Creates or moves the timer; one whose date changes is unfired again."""
    statement = insert(link_timers).values(link_id=link_id, which=which, contract_id=contract_id, asset_id=asset_id,
                                           first_day=on, due_at=due_at, fired_at=None)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[link_timers.c.link_id, link_timers.c.which],
        set_={"first_day": on, "due_at": due_at, "fired_at": None},
        where=link_timers.c.first_day != statement.excluded.first_day,
    ))


async def drop_unfired(conn: AsyncConnection, link_id: UUID, which: str | None = None) -> None:
    t = link_timers.c
    query = link_timers.delete().where(t.link_id == link_id, t.fired_at.is_(None))
    if which is not None:
        query = query.where(t.which == which)
    await conn.execute(query)


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, link_timers, now, limit)


async def mark_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    for timer in timers:
        await conn.execute(link_timers.update().where(
            link_timers.c.link_id == timer.link_id, link_timers.c.which == timer.which).values(fired_at=now))


async def timers_of(conn: AsyncConnection, link_id: UUID) -> list:
    query = sa.select(link_timers).where(link_timers.c.link_id == link_id).order_by(link_timers.c.which)
    return list(await conn.execute(query))
