"""Rebuilds the read model from scratch by replaying every subscribed topic from its beginning.

Run with the projection's live consumer stopped (scale the deployment to 0):
`python -m services.projection.application.rebuild`. The replay goes through the same
`apply_batch`, handler table and inbox as live consumption: each fetch's messages of a partition
are applied together, in partition order, in one transaction, so the rebuilt rows equal the live
ones by construction, at batch speed. As live, a known event type the projection has no handler
for gets no inbox row and an invalid envelope (dead-lettered live) is passed over; a batch that
fails is applied again one event per transaction, so the failing event is named as before.
"""

import asyncio
import uuid

import sqlalchemy as sa
from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone import kafka as kafka_clients
from shared.backbone.inbox import apply_batch, apply_once
from shared.backbone.kafka import KafkaAccess
from shared.events.base import registered_events
from shared.events.envelope import InvalidEnvelope, from_kafka
from shared.backbone.event_routing import Handler, topics_of
from services.projection.adapters import (
    contract_links, contract_records, contracting_records, cycle_times, negotiation_records, renewal_calendar,
    service_contract_records,
)
from services.projection.application.projector import CONSUMER_NAME, HANDLERS, project


MAX_RECORDS = 4000  # per fetch: large batches, one transaction each, as many statements as a batch of 200


async def rebuild(engine: AsyncEngine, kafka: KafkaAccess, max_records: int = MAX_RECORDS,
                  handle: Handler = project) -> int:
    """Returns how many events were applied. `handle` is the projector (bench.rebuild times the
    mechanics alone with a handler that does nothing)."""
    async with engine.begin() as conn:
        await contract_records.clear(conn)
        await negotiation_records.clear(conn)
        await contracting_records.clear(conn)
        await service_contract_records.clear(conn)
        await renewal_calendar.clear(conn)
        await cycle_times.clear(conn)
        await contract_links.clear(conn)
        await conn.execute(sa.text("DELETE FROM inbox WHERE consumer = :c"), {"c": CONSUMER_NAME})
    # A throwaway group with manual assignment: aiokafka 0.14's group-less consumer raises
    # CancelledError from stop(). Nothing is committed to it.
    # Its name begins with `projection-rebuild-`: the projection's principal may READ such groups.
    consumer = kafka_clients.consumer(kafka, enable_auto_commit=False,
                                      group_id=f"{CONSUMER_NAME}-rebuild-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    applied = 0
    try:
        partitions = await _partitions(kafka, topics_of(HANDLERS))
        if not partitions:
            return 0
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=max_records)
            for tp, messages in batches.items():
                applied += await _apply(engine, tp, [m for m in messages if m.offset < end[tp]], handle)
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return applied


_IGNORED = {(cls.cloudevent_type().encode(), str(cls.schema_version).encode())
            for cls in registered_events() if cls not in project.handles}


async def _apply(engine: AsyncEngine, tp: TopicPartition, messages: list, handle: Handler) -> int:
    """The partition's fetched messages in one transaction, as the live consumer applies them."""
    batch = []
    for message in messages:
        headers = dict(message.headers or ())
        if (headers.get("ce_type"), headers.get("ce_schemaversion")) in _IGNORED:
            continue  # as live: no effect to have, no inbox row
        try:
            envelope = from_kafka(message.headers, message.key, message.value, tp.topic)
        except InvalidEnvelope:
            continue  # the live consumer dead-lettered it already (malformed or not its topic owner's)
        batch.append((envelope, tp.topic, tp.partition, message.offset))
    if not batch:
        return 0
    try:
        return sum(await apply_batch(engine, CONSUMER_NAME, batch, handle))
    except Exception:
        pass  # as live: the batch again, one event per transaction
    applied = 0
    for envelope, topic, partition, offset in batch:
        applied += await apply_once(engine, CONSUMER_NAME, envelope, handle, topic=topic, partition=partition,
                                    offset=offset)
    return applied


async def _partitions(kafka: KafkaAccess, topics: list[str]) -> list[TopicPartition]:
    admin = kafka_clients.admin_client(kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [
        TopicPartition(t["topic"], p["partition"]) for t in described if not t["error_code"] for p in t["partitions"]
    ]


def main() -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.backbone.settings import ServiceSettings

    settings = ServiceSettings()
    engine = create_async_engine(settings.database_url, connect_args={"server_settings": {"search_path": "projection"}})
    applied = asyncio.run(rebuild(engine, settings.kafka()))
    print(f"read model rebuilt from {applied} events")


if __name__ == "__main__":
    main()
