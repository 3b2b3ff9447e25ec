"""Contract periods' tables: what the scheduler knows of a contract's renewal terms and current
period (one row per contract, from clm's events; its row lock orders the handlers that change a
contract's timers), and the durable timers of the current period (its end, and one row per
(anchor, offset) reminder). Timer rows stay after they fire (`fired_at`); a reminder passed while a
later one of its anchor was due too is marked fired and `skipped`."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata
from services.lifecycle_scheduler.domain.contract_periods import PlannedTimer

contract_period_states = sa.Table(
    "contract_period_states",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("activated", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("time_zone", sa.Text),
    sa.Column("terms", JSONB),  # RenewalTerms; null: no renewal terms (the schedule's expiry as before)
    sa.Column("period", JSONB),  # the current ContractPeriod
    sa.Column("renewals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("notice_period", sa.Integer),
    sa.Column("acknowledged", JSONB, nullable=False, server_default="[]"),  # [[period, anchor], ...]
    sa.Column("expired", sa.Boolean, nullable=False, server_default=sa.false()),
)

contract_period_timers = sa.Table(
    "contract_period_timers",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("period_number", sa.Integer, primary_key=True),
    sa.Column("anchor", sa.Text, primary_key=True),  # cancel_by | end | period_end
    sa.Column("days_before", sa.Integer, primary_key=True),
    sa.Column("anchor_date", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("contract_period_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def lock_state(conn: AsyncConnection, contract_id: UUID):
    """The contract's row, created empty when new, locked until this transaction ends."""
    await conn.execute(insert(contract_period_states).values(contract_id=contract_id).on_conflict_do_nothing())
    query = sa.select(contract_period_states).where(contract_period_states.c.contract_id == contract_id)
    return (await conn.execute(query.with_for_update())).one()


async def state_of(conn: AsyncConnection, contract_id: UUID):
    query = sa.select(contract_period_states).where(contract_period_states.c.contract_id == contract_id)
    return (await conn.execute(query)).one_or_none()


async def states_of(conn: AsyncConnection, contract_ids: list[UUID]) -> list:
    """The rows of these contracts (those it has), unlocked: for reading only."""
    s = contract_period_states
    return list(await conn.execute(sa.select(s).where(s.c.contract_id.in_(contract_ids)))) if contract_ids else []


async def save_state(conn: AsyncConnection, contract_id: UUID, **values) -> None:
    s = contract_period_states
    await conn.execute(s.update().where(s.c.contract_id == contract_id).values(**values))


async def replan(conn: AsyncConnection, contract_id: UUID, time_zone: str, planned: list[PlannedTimer]) -> None:
    """The contract's unfired timers become `planned`; fired ones stay as they are."""
    await drop_unfired(conn, contract_id)
    if planned:
        rows = [{"contract_id": contract_id, "period_number": p.period_number, "anchor": p.anchor,
                 "days_before": p.days_before, "anchor_date": p.anchor_date, "time_zone": time_zone,
                 "due_at": p.due_at, "fired_at": None, "skipped": False} for p in planned]
        await conn.execute(insert(contract_period_timers).values(rows).on_conflict_do_nothing())


async def drop_unfired(conn: AsyncConnection, contract_id: UUID) -> None:
    t = contract_period_timers.c
    await conn.execute(contract_period_timers.delete().where(t.contract_id == contract_id, t.fired_at.is_(None)))


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, contract_period_timers, now, limit)


async def due_of_anchor(conn: AsyncConnection, contract_id: UUID, period_number: int, anchor: str,
                        now: dt.datetime) -> list[int]:
    """The anchor's unfired reminders due now (days before)."""
    t = contract_period_timers.c
    query = sa.select(t.days_before).where(t.contract_id == contract_id, t.period_number == period_number,
                                           t.anchor == anchor, t.fired_at.is_(None), t.due_at <= now)
    return list((await conn.execute(query)).scalars())


async def mark_fired(conn: AsyncConnection, timer, now: dt.datetime, skipped: bool) -> None:
    t = contract_period_timers.c
    await conn.execute(contract_period_timers.update().where(
        t.contract_id == timer.contract_id, t.period_number == timer.period_number, t.anchor == timer.anchor,
        t.days_before == timer.days_before).values(fired_at=now, skipped=skipped))


async def timers_of(conn: AsyncConnection, contract_id: UUID) -> list:
    t = contract_period_timers.c
    query = (sa.select(contract_period_timers).where(t.contract_id == contract_id)
             .order_by(t.period_number, t.due_at, t.anchor))
    return list(await conn.execute(query))
