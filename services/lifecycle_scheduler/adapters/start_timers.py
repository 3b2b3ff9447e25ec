"""Durable timers of executed contracts' start dates: one row per contract, due when its start date
begins in its zone (at once when that lies in the past). Set from ContractExecuted; the row stays
after it fires (`fired_at`)."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

contract_start_timers = sa.Table(
    "contract_start_timers",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("envelope_id", sa.Uuid, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Index("contract_start_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def set_timer(conn: AsyncConnection, contract_id: UUID, envelope_id: UUID, start_date: dt.date, time_zone: str,
                    due_at: dt.datetime) -> None:
    """Creates the timer, or moves it while it has not fired; a fired one stays as it is."""
    t = contract_start_timers.c
    statement = insert(contract_start_timers).values(contract_id=contract_id, envelope_id=envelope_id,
                                                     start_date=start_date, time_zone=time_zone, due_at=due_at)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[t.contract_id],
        set_={"envelope_id": envelope_id, "start_date": start_date, "time_zone": time_zone, "due_at": due_at},
        where=t.fired_at.is_(None),
    ))


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, contract_start_timers, now, limit)


async def mark_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    if timers:
        t = contract_start_timers.c
        await conn.execute(contract_start_timers.update()
                           .where(t.contract_id.in_([r.contract_id for r in timers])).values(fired_at=now))


async def timer_of(conn: AsyncConnection, contract_id: UUID):
    query = sa.select(contract_start_timers).where(contract_start_timers.c.contract_id == contract_id)
    return (await conn.execute(query)).one_or_none()
