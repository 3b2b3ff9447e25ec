"""Durable timers: an index of what falls due when, kept in step with the schedule events in the
same transaction. The partial index on unfired timers makes a sweep cost what is due, not what
exists."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = sa.MetaData()

timers = sa.Table(
    "timers",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Index("timers_due", "due_at", postgresql_where=sa.text("fired_at IS NULL")),
)


async def set_timer(conn: AsyncConnection, contract_id, kind: str, due_at: dt.datetime) -> None:
    statement = insert(timers).values(contract_id=contract_id, kind=kind, due_at=due_at, fired_at=None)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[timers.c.contract_id, timers.c.kind],
            set_={"due_at": statement.excluded.due_at},
            where=timers.c.fired_at.is_(None),
        )
    )


async def claim_due_rows(conn: AsyncConnection, table: sa.Table, now: dt.datetime, limit: int) -> list:
    """Due, unfired rows of a table of timers (`due_at`, `fired_at`), in due order, locked for this
    transaction: another replica skips them, and marking them fired in it fires each once."""
    query = (
        sa.select(table)
        .where(table.c.fired_at.is_(None), table.c.due_at <= now)
        .order_by(table.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await conn.execute(query))


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    return await claim_due_rows(conn, timers, now, limit)


async def mark_fired(conn: AsyncConnection, contract_id, kind: str, now: dt.datetime) -> None:
    await conn.execute(
        timers.update().where(timers.c.contract_id == contract_id, timers.c.kind == kind).values(fired_at=now)
    )


async def drop_unfired(conn: AsyncConnection, contract_id, kind: str) -> None:
    await conn.execute(timers.delete().where(timers.c.contract_id == contract_id, timers.c.kind == kind,
                                             timers.c.fired_at.is_(None)))
