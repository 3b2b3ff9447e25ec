"""Durable timers of vendor contracts' dates: a row per contract and kind (start, end), due when
the date is reached in the contract's zone.

A row stays after it fires (`fired_at`) so a revision can tell a new due instant from the one
already fired; a contract that ends otherwise (canceled, expired) loses its unfired rows. The
partial index on unfired timers makes a sweep cost what is due, not what exists.
"""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

operational_contract_timers = sa.Table(
    "operational_contract_timers",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Index("operational_contract_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def set_timer(conn: AsyncConnection, contract_id: UUID, kind: str, date: dt.date, time_zone: str,
                    due_at: dt.datetime) -> None:
    """Creates or moves the timer; one whose due instant changes is unfired again, one whose
    instant stays is left as it is (fired or not)."""
    t = operational_contract_timers
    statement = insert(t).values(contract_id=contract_id, kind=kind, date=date, time_zone=time_zone, due_at=due_at,
                                 fired_at=None)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[t.c.contract_id, t.c.kind],
        set_={"date": date, "time_zone": time_zone, "due_at": due_at, "fired_at": None},
        where=t.c.due_at != statement.excluded.due_at,
    ))


async def drop_unfired(conn: AsyncConnection, contract_id: UUID) -> None:
    t = operational_contract_timers.c
    await conn.execute(operational_contract_timers.delete().where(t.contract_id == contract_id, t.fired_at.is_(None)))


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, operational_contract_timers, now, limit)


async def mark_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    t = operational_contract_timers.c
    for timer in timers:
        await conn.execute(operational_contract_timers.update()
                           .where(t.contract_id == timer.contract_id, t.kind == timer.kind).values(fired_at=now))


async def timers_of(conn: AsyncConnection, contract_id: UUID) -> list:
    t = operational_contract_timers.c
    query = sa.select(operational_contract_timers).where(t.contract_id == contract_id).order_by(t.due_at, t.kind)
    return list(await conn.execute(query))
