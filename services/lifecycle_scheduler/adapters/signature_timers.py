"""Durable timers of signature envelopes: the envelope's deadline (one row per envelope, which also
keeps how often its signers are reminded) and its signers' reminders (one row per signer and
reminder number; firing one adds the next while it falls before the deadline). Kept in step with
clm's signature events in the consumer's transaction: a signer who signs loses their unfired
reminder, an envelope that ends (declined, expired, canceled, executed) all its unfired rows.
Rows stay after they fire (`fired_at`)."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import claim_due_rows, metadata

_AT = sa.DateTime(timezone=True)

signature_deadline_timers = sa.Table(
    "signature_deadline_timers",
    metadata,
    sa.Column("envelope_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("reminder_every_days", sa.Integer),
    sa.Column("due_at", _AT, nullable=False),
    sa.Column("fired_at", _AT),
    sa.Index("signature_deadline_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)

signature_reminder_timers = sa.Table(
    "signature_reminder_timers",
    metadata,
    sa.Column("envelope_id", sa.Uuid, primary_key=True),
    sa.Column("signer_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("invited_at", _AT, nullable=False),
    sa.Column("every_days", sa.Integer, nullable=False),
    sa.Column("deadline", _AT, nullable=False),
    sa.Column("due_at", _AT, nullable=False),
    sa.Column("fired_at", _AT),
    sa.Index("signature_reminder_timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def set_deadline(conn: AsyncConnection, envelope_id: UUID, contract_id: UUID, deadline: dt.datetime,
                       reminder_every_days: int | None) -> None:
    statement = insert(signature_deadline_timers).values(envelope_id=envelope_id, contract_id=contract_id,
                                                         reminder_every_days=reminder_every_days, due_at=deadline)
    await conn.execute(statement.on_conflict_do_nothing())


async def deadline_of(conn: AsyncConnection, envelope_id: UUID):
    query = sa.select(signature_deadline_timers).where(signature_deadline_timers.c.envelope_id == envelope_id)
    return (await conn.execute(query)).one_or_none()


async def add_reminders(conn: AsyncConnection, rows: list[dict]) -> None:
    """Rows of (envelope_id, signer_id, number, contract_id, invited_at, every_days, deadline, due_at);
    one that exists already is left as it is."""
    if rows:
        await conn.execute(insert(signature_reminder_timers).values(rows).on_conflict_do_nothing())


async def stop_signer(conn: AsyncConnection, envelope_id: UUID, signer_id: UUID) -> None:
    t = signature_reminder_timers.c
    await conn.execute(signature_reminder_timers.delete().where(
        t.envelope_id == envelope_id, t.signer_id == signer_id, t.fired_at.is_(None)))


async def stop_envelope(conn: AsyncConnection, envelope_id: UUID) -> None:
    for table in (signature_reminder_timers, signature_deadline_timers):
        await conn.execute(table.delete().where(table.c.envelope_id == envelope_id, table.c.fired_at.is_(None)))


async def stop_envelopes(conn: AsyncConnection, envelope_ids: set[UUID]) -> None:
    for envelope_id in envelope_ids:
        await stop_envelope(conn, envelope_id)


async def claim_due_deadlines(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, signature_deadline_timers, now, limit)


async def claim_due_reminders(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, signature_reminder_timers, now, limit)


async def mark_deadlines_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    if timers:
        t = signature_deadline_timers.c
        await conn.execute(signature_deadline_timers.update()
                           .where(t.envelope_id.in_([r.envelope_id for r in timers])).values(fired_at=now))


async def mark_reminders_fired(conn: AsyncConnection, timers: list, now: dt.datetime) -> None:
    if timers:
        t = signature_reminder_timers.c
        keys = [(r.envelope_id, r.signer_id, r.number) for r in timers]
        await conn.execute(signature_reminder_timers.update()
                           .where(sa.tuple_(t.envelope_id, t.signer_id, t.number).in_(keys)).values(fired_at=now))


async def reminders_of(conn: AsyncConnection, envelope_id: UUID) -> list:
    t = signature_reminder_timers.c
    query = sa.select(signature_reminder_timers).where(t.envelope_id == envelope_id).order_by(t.signer_id, t.number)
    return list(await conn.execute(query))
