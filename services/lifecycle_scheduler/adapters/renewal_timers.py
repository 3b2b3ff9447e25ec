"""Durable timers of renewal deadlines: one row per (renewal task, offset), due when that deadline's
day begins. Rows stay after they fire (`fired_at`); a deadline passed while a later one of its period
was due too is marked fired and `skipped` (never announced). A period
that is gone (end date moved, contract ended) loses its unfired rows."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

renewal_timers = sa.Table(
    "renewal_timers",
    metadata,
    sa.Column("task_id", sa.Uuid, primary_key=True),
    sa.Column("days_before", sa.Integer, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("renewal_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
    sa.Index("renewal_timers_contract", "contract_id"),
)


async def plan_period(conn: AsyncConnection, task_id: UUID, contract_id: UUID, end_date: dt.date, time_zone: str,
                      deadlines: list[tuple[int, dt.datetime]]) -> None:
    """The period's timers; ones that exist already (fired or not) are left as they are."""
    if not deadlines:
        return
    rows = [{"task_id": task_id, "days_before": days, "contract_id": contract_id, "end_date": end_date,
             "time_zone": time_zone, "due_at": at, "fired_at": None, "skipped": False} for days, at in deadlines]
    await conn.execute(insert(renewal_timers).values(rows).on_conflict_do_nothing())


async def due_of_task(conn: AsyncConnection, task_id: UUID, now: dt.datetime) -> list[int]:
    """The task's unfired deadlines due now (days before the end)."""
    t = renewal_timers.c
    query = sa.select(t.days_before).where(t.task_id == task_id, t.fired_at.is_(None), t.due_at <= now)
    return list((await conn.execute(query)).scalars())


async def drop_unfired(conn: AsyncConnection, contract_id: UUID, except_end_date: dt.date | None = None) -> None:
    t = renewal_timers.c
    query = renewal_timers.delete().where(t.contract_id == contract_id, t.fired_at.is_(None))
    if except_end_date is not None:
        query = query.where(t.end_date != except_end_date)
    await conn.execute(query)


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, renewal_timers, now, limit)


async def mark_fired(conn: AsyncConnection, task_id: UUID, days_before: int, now: dt.datetime, skipped: bool) -> None:
    t = renewal_timers.c
    await conn.execute(renewal_timers.update().where(t.task_id == task_id, t.days_before == days_before)
                       .values(fired_at=now, skipped=skipped))


async def timers_of(conn: AsyncConnection, contract_id: UUID) -> list:
    t = renewal_timers.c
    query = sa.select(renewal_timers).where(t.contract_id == contract_id).order_by(t.end_date, t.days_before.desc())
    return list(await conn.execute(query))
