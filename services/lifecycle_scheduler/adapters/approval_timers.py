"""Durable timers of approval SLAs: one row per step, level and mark (at_risk, deadline), due at the
level's at_risk_at / due_at. Kept in step with clm's approval events in the consumer's transaction:
a step opened at a new level replaces the unfired rows of the levels before it, a step granted,
rejected or invalidated loses its unfired rows. Rows stay after they fire (`fired_at`)."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

approval_timers = sa.Table(
    "approval_timers",
    metadata,
    sa.Column("step_id", sa.Uuid, primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True),
    sa.Column("mark", sa.Text, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("step_due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recipients", ARRAY(sa.Text), nullable=False),  # the level's approvers, to notify
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Index("approval_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
    sa.Index("approval_timers_contract", "contract_id"),
)


async def open_level(conn: AsyncConnection, step_id: UUID, level: int, contract_id: UUID, step_due_at: dt.datetime,
                     marks: dict[str, dt.datetime], recipients: list[str]) -> None:
    """The level's timers; the unfired ones of other levels go. A level opened again keeps its rows."""
    t = approval_timers.c
    await conn.execute(approval_timers.delete().where(t.step_id == step_id, t.level != level, t.fired_at.is_(None)))
    rows = [{"step_id": step_id, "level": level, "mark": mark, "contract_id": contract_id, "step_due_at": step_due_at,
             "recipients": recipients, "due_at": at, "fired_at": None} for mark, at in marks.items()]
    await conn.execute(insert(approval_timers).values(rows).on_conflict_do_nothing())


async def drop_unfired(conn: AsyncConnection, step_ids: list[UUID]) -> None:
    if step_ids:
        t = approval_timers.c
        await conn.execute(approval_timers.delete().where(t.step_id.in_(step_ids), t.fired_at.is_(None)))


async def drop_unfired_of_contract(conn: AsyncConnection, contract_id: UUID) -> None:
    t = approval_timers.c
    await conn.execute(approval_timers.delete().where(t.contract_id == contract_id, t.fired_at.is_(None)))


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, approval_timers, now, limit)


async def mark_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    if timers:
        t = approval_timers.c
        keys = [(r.step_id, r.level, r.mark) for r in timers]
        await conn.execute(approval_timers.update().where(sa.tuple_(t.step_id, t.level, t.mark).in_(keys))
                           .values(fired_at=now))


async def timers_of(conn: AsyncConnection, step_id: UUID) -> list:
    t = approval_timers.c
    query = sa.select(approval_timers).where(t.step_id == step_id).order_by(t.level, t.due_at)
    return list(await conn.execute(query))
