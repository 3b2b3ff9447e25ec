"""A rebuild with no downtime: the read model replayed beside the live one, then switched in.

`python -m services.projection.application.blue_green`, while the projection keeps serving and
consuming. The replay goes into `projection_next` (a schema provisioning gives the projection's
role beside its own: services/provision.py), migrated with the projection's migrations, through
the same `rebuild` as a stopped rebuild. Then, in one transaction on the live schema:

1. the switch lock, exclusively: the live consumer's transactions take it shared first
   (`SWITCH_GUARD`, the projection's Subscription), so this waits for the batch in flight and
   holds the next;
2. the events the live consumer has applied since the replay read its end offsets, up to the
   live inbox's last offset per partition, replayed into `projection_next`;
3. the replayed tables (and the inbox, which says what they hold) moved: live ones to
   `projection_old`, rebuilt ones into `projection`. Tables are moved, not schemas renamed:
   renaming a schema needs CREATE on the database, which the role has not. What is not derived
   from events (the event store, calendar feeds: credentials) stays where it is.

The live service's pooled connections name `projection` in their search_path, and PostgreSQL
revalidates a cached plan whose relations changed, resolving the names again: asyncpg's prepared
statements read the moved-in tables at their next execution (the same migrations give the same
columns, so no "cached plan must not change result type").
"""

import asyncio
import uuid
from pathlib import Path

import sqlalchemy as sa
from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.backbone import kafka as kafka_clients
from shared.backbone.database import create_engine
from shared.backbone.event_routing import topics_of
from shared.backbone.kafka import KafkaAccess
from shared.backbone.migrations import upgrade_to_head
from services.projection.application import rebuild as replay
from services.projection.application.projector import CONSUMER_NAME, HANDLERS

MIGRATIONS = Path(__file__).resolve().parent.parent / "adapters" / "migrations"
LIVE, NEXT, OLD = "projection", "projection_next", "projection_old"
# Each live consumer transaction's first statement: the switch takes the same key exclusively.
SWITCH_GUARD = sa.text("SELECT pg_advisory_xact_lock_shared(hashtext('projection:switch'))")
_SWITCH_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtext('projection:switch'))")
# What the replay writes: the tables the adapters' `clear` empty, and the inbox.
REPLAYED = (
    "contracts", "contract_assets", "contract_history", "contract_links", "contract_approval_steps",
    "contract_signers", "contract_progress", "contract_phase_intervals", "contract_deviations",
    "contract_comment_threads", "contract_renewal_dates", "contract_obligations",
    "contract_obligation_completions", "service_contracts", "contract_lines", "entitlements", "sold_products",
    "install_base_items", "inbox",
)
_LIVE_OFFSETS = sa.text('SELECT topic, partition, max("offset") FROM inbox WHERE consumer = :c GROUP BY 1, 2')


async def rebuild_beside(live: AsyncEngine, database_url: str, kafka: KafkaAccess) -> int:
    """Replays into NEXT, switches it in; returns how many events were applied."""
    spare = create_engine(database_url, search_path=NEXT)
    try:
        async with spare.begin() as conn:  # a fresh table set: whatever a previous run left is dropped
            for (name,) in await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                                              {"s": NEXT}):
                await conn.execute(sa.text(f'DROP TABLE IF EXISTS {NEXT}."{name}" CASCADE'))
        await upgrade_to_head(spare, NEXT, MIGRATIONS)
        applied = await replay.rebuild(spare, kafka)
        applied += await _catch_up(spare, kafka, None)  # what arrived meanwhile, before holding anything
        async with live.begin() as conn:
            await conn.execute(_SWITCH_LOCK)
            upto = {TopicPartition(t, p): o for t, p, o in await conn.execute(_LIVE_OFFSETS, {"c": CONSUMER_NAME})}
            applied += await _catch_up(spare, kafka, upto)
            await _switch(conn)
        return applied
    finally:
        await spare.dispose()


async def _catch_up(spare: AsyncEngine, kafka: KafkaAccess, upto: dict[TopicPartition, int] | None) -> int:
    """Replays into `spare`, from past its inbox's last offset per partition, the messages up to
    `upto` (inclusive), or to the partitions' current ends."""
    async with spare.connect() as conn:
        done = {TopicPartition(t, p): o for t, p, o in await conn.execute(_LIVE_OFFSETS, {"c": CONSUMER_NAME})}
    partitions = await replay._partitions(kafka, topics_of(HANDLERS))
    consumer = kafka_clients.consumer(kafka, enable_auto_commit=False,
                                      group_id=f"{CONSUMER_NAME}-rebuild-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    applied = 0
    try:
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        stop = {tp: min(end[tp], upto[tp] + 1) if upto is not None else end[tp] for tp in partitions
                if upto is None or tp in upto}
        remaining = set()
        for tp, last in stop.items():
            start = done.get(tp, -1) + 1
            if start < last:
                consumer.seek(tp, start)
                remaining.add(tp)
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=replay.MAX_RECORDS)
            for tp, messages in batches.items():
                applied += await replay._apply(spare, tp, [m for m in messages if m.offset < stop[tp]], replay.project)
                if await consumer.position(tp) >= stop[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return applied


async def _switch(conn: AsyncConnection) -> None:
    for (name,) in await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": OLD}):
        await conn.execute(sa.text(f'DROP TABLE IF EXISTS {OLD}."{name}" CASCADE'))
    for name in REPLAYED:
        await conn.execute(sa.text(f'ALTER TABLE {LIVE}."{name}" SET SCHEMA {OLD}'))
        await conn.execute(sa.text(f'ALTER TABLE {NEXT}."{name}" SET SCHEMA {LIVE}'))


def main() -> None:
    from shared.backbone.settings import ServiceSettings

    settings = ServiceSettings()
    live = create_engine(settings.database_url, search_path=LIVE)
    try:
        applied = asyncio.run(rebuild_beside(live, settings.database_url, settings.kafka()))
    finally:
        asyncio.run(live.dispose())
    print(f"read model rebuilt beside the live one from {applied} events and switched in")


if __name__ == "__main__":
    main()
