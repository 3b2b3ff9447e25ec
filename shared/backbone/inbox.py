"""Exactly once, in the database: a consumed event is applied in a transaction that also writes
its inbox row (consumer, event id), so a redelivered event finds the row and has no effect.
`apply_once` does it for one event, `apply_batch` for a partition's fetch in one transaction (one
statement for the inbox rows). The Kafka side (fetching, retries, dead letters, offsets) is
consumer.py's; a rebuild replays through the same two functions."""

from typing import Callable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone.clock import Clock
from shared.backbone.event_routing import Handler, Run
from shared.backbone.tables import inbox
from shared.backbone.unit_of_work import UnitOfWork, Views
from shared.events.envelope import Envelope


async def apply_once(
    engine: AsyncEngine, consumer: str, envelope: Envelope, handle: Handler, *,
    topic: str, partition: int, offset: int, on_commit: Callable[[], None] | None = None,
    views: Views | None = None, clock: Clock | None = None, guard: sa.TextClause | None = None,
) -> bool:
    """Handles the event unless this consumer already has; False for a duplicate. `guard`, where
    given, is the transaction's first statement (a lock another transaction may hold)."""
    async with UnitOfWork(
        engine, correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id),
        actor=f"consumer:{consumer}", on_commit=on_commit, views=views, clock=clock,
    ) as uow:
        if guard is not None:
            await uow.conn.execute(guard)
        if not await record_in_inbox(uow, consumer, envelope, topic, partition, offset, "applied"):
            return False
        await handle(uow, envelope)
        await uow.commit()
        return True


async def apply_batch(
    engine: AsyncEngine, consumer: str, messages: list[tuple[Envelope, str, int, int]], handle: Handler, *,
    on_commit: Callable[[], None] | None = None, views: Views | None = None, clock: Clock | None = None,
    guard: sa.TextClause | None = None,
) -> list[bool]:
    """Handles, in order and in one transaction, each event of `messages` (envelope, topic,
    partition, offset) this consumer has not had yet; True where applied, False for a duplicate.
    Raises what a handler raised, with nothing of the batch done. The events of earlier messages
    are staged in the unit of work (`uow.get` sees them) and reach the table at the end. A
    dispatcher's `Batched` handlers get their runs together and its `Prefetching` handlers' streams
    are read first, in one query (event_routing.py)."""
    async with UnitOfWork(engine, actor=f"consumer:{consumer}", on_commit=on_commit, views=views, clock=clock) as uow:
        if guard is not None:
            await uow.conn.execute(guard)
        new = await _record_batch_in_inbox(uow, consumer, messages)
        applied, fresh = [], []
        for envelope, *_ in messages:
            if envelope.event_id not in new:
                applied.append(False)
                continue
            new.discard(envelope.event_id)  # a second copy in the same batch is a duplicate
            fresh.append(envelope)
            applied.append(True)
        streams = getattr(handle, "streams", None)
        if streams is not None and (wanted := streams(fresh)):
            await uow.prefetch(wanted)
        runs = getattr(handle, "runs", None)
        for run in runs(fresh) if runs is not None else (Run(handle, [e]) for e in fresh):
            uow.caused_by(run.envelopes[0])
            if run.batched:
                await run.handler.handle_many(uow, run.envelopes)
            else:
                await run.handler(uow, run.envelopes[0])
        await uow.commit()
    return applied


# One statement text whatever the batch size, so asyncpg prepares it once.
_INSERT_INBOX_ROWS = sa.text(
    """INSERT INTO inbox (consumer, event_id, topic, partition, "offset", outcome)
    SELECT CAST(:consumer AS text), r.event_id, r.topic, r.partition, r."offset", 'applied'
    FROM unnest(CAST(:event_id AS uuid[]), CAST(:topic AS text[]), CAST(:partition AS int[]),
                CAST(:offset AS bigint[])) AS r(event_id, topic, partition, "offset")
    ON CONFLICT DO NOTHING
    RETURNING event_id"""
)


async def _record_batch_in_inbox(
    uow: UnitOfWork, consumer: str, messages: list[tuple[Envelope, str, int, int]]
) -> set[UUID]:
    """Inserts the inbox rows of the events not seen before (first copy of each); returns their ids."""
    first: dict[UUID, tuple[str, int, int]] = {}
    for envelope, topic, partition, offset in messages:
        first.setdefault(envelope.event_id, (topic, partition, offset))
    rows = await uow.conn.execute(_INSERT_INBOX_ROWS, {
        "consumer": consumer,
        "event_id": list(first),
        "topic": [topic for topic, _, _ in first.values()],
        "partition": [partition for _, partition, _ in first.values()],
        "offset": [offset for _, _, offset in first.values()],
    })
    return set(rows.scalars())


async def record_in_inbox(uow: UnitOfWork, consumer: str, envelope: Envelope, topic: str, partition: int, offset: int, outcome: str) -> bool:
    statement = insert(inbox).values(
        consumer=consumer, event_id=envelope.event_id, topic=topic, partition=partition, offset=offset, outcome=outcome
    )
    result = await uow.conn.execute(statement.on_conflict_do_nothing())
    return result.rowcount == 1
