"""Durable timers of obligations: what the scheduler knows of each obligation (`obligation_terms`,
from clm's ObligationRecorded / ObligationCanceled), the occurrences completed
(`obligation_completions`), and the timers (`obligation_timers`, one row per obligation,
occurrence, mark — due or overdue — and overdue number). Kept in step with clm's obligation events
in the consumer's transaction: a completion drops that occurrence's unfired rows, a cancellation
all of the obligation's. Rows stay after they fire (`fired_at`)."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.obligations import ObligationRecorded, Recurrence
from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

_AT = sa.DateTime(timezone=True)
DUE, OVERDUE = "due", "overdue"

obligation_terms = sa.Table(
    "obligation_terms",
    metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owners", ARRAY(sa.Text), nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("rrule", sa.Text),
    sa.Column("rrule_start", sa.Date),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("canceled_at", _AT),
)

obligation_completions = sa.Table(
    "obligation_completions",
    metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
)

obligation_timers = sa.Table(
    "obligation_timers",
    metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("mark", sa.Text, primary_key=True),  # due | overdue
    sa.Column("number", sa.Integer, primary_key=True),  # 0 for due, the overdue notice's number
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("due_at", _AT, nullable=False),
    sa.Column("fired_at", _AT),
    sa.Index("obligation_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


def recurrence_of(terms) -> Recurrence | None:
    return Recurrence(rrule=terms.rrule, start=terms.rrule_start) if terms.rrule else None


async def save_terms(conn: AsyncConnection, e: ObligationRecorded) -> bool:
    """False when the obligation was known already (a redelivery)."""
    statement = insert(obligation_terms).values(
        obligation_id=e.obligation_id, contract_id=e.contract_id, kind=e.kind, description=e.description,
        owners=e.owners, due_date=e.due_date, rrule=e.recurrence.rrule if e.recurrence else None,
        rrule_start=e.recurrence.start if e.recurrence else None, time_zone=e.time_zone)
    return (await conn.execute(statement.on_conflict_do_nothing())).rowcount == 1


async def terms_of(conn: AsyncConnection, obligation_id: UUID):
    query = sa.select(obligation_terms).where(obligation_terms.c.obligation_id == obligation_id)
    return (await conn.execute(query)).one_or_none()


async def terms_of_many(conn: AsyncConnection, obligation_ids: set[UUID]) -> dict:
    if not obligation_ids:
        return {}
    query = sa.select(obligation_terms).where(obligation_terms.c.obligation_id.in_(obligation_ids))
    return {r.obligation_id: r for r in await conn.execute(query)}


async def cancel(conn: AsyncConnection, obligation_id: UUID, at: dt.datetime) -> None:
    t = obligation_terms.c
    await conn.execute(obligation_terms.update().where(t.obligation_id == obligation_id, t.canceled_at.is_(None))
                       .values(canceled_at=at))
    await conn.execute(obligation_timers.delete().where(obligation_timers.c.obligation_id == obligation_id,
                                                        obligation_timers.c.fired_at.is_(None)))


async def complete(conn: AsyncConnection, obligation_id: UUID, due_on: dt.date) -> bool:
    """Records the completion and drops the occurrence's unfired timers; True when its due timer was
    among them (the chain then moves on to the next occurrence)."""
    await conn.execute(insert(obligation_completions).values(obligation_id=obligation_id, due_on=due_on)
                       .on_conflict_do_nothing())
    t = obligation_timers.c
    dropped = await conn.execute(obligation_timers.delete().where(
        t.obligation_id == obligation_id, t.due_on == due_on, t.fired_at.is_(None)).returning(t.mark))
    return DUE in {r.mark for r in dropped}


async def completed_of(conn: AsyncConnection, obligation_id: UUID) -> set[dt.date]:
    c = obligation_completions.c
    return set((await conn.execute(sa.select(c.due_on).where(c.obligation_id == obligation_id))).scalars())


async def add_timer(conn: AsyncConnection, obligation_id: UUID, contract_id: UUID, due_on: dt.date, mark: str,
                    number: int, due_at: dt.datetime) -> None:
    """One that exists already is left as it is."""
    await conn.execute(insert(obligation_timers).values(
        obligation_id=obligation_id, due_on=due_on, mark=mark, number=number, contract_id=contract_id, due_at=due_at)
        .on_conflict_do_nothing())


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, obligation_timers, now, limit)


async def mark_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    if timers:
        t = obligation_timers.c
        keys = [(r.obligation_id, r.due_on, r.mark, r.number) for r in timers]
        await conn.execute(obligation_timers.update().where(sa.tuple_(t.obligation_id, t.due_on, t.mark, t.number)
                                                            .in_(keys)).values(fired_at=now))


async def timers_of(conn: AsyncConnection, obligation_id: UUID) -> list:
    t = obligation_timers.c
    query = sa.select(obligation_timers).where(t.obligation_id == obligation_id).order_by(t.due_at, t.mark, t.number)
    return list(await conn.execute(query))
