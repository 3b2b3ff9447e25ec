"""The outbox relay on real PostgreSQL and Kafka: everything published, once, in order per key,
even when the broker stops and comes back."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from shared.backbone.kafka import KafkaAccess, idempotent_producer
from shared.backbone.outbox import OutboxRelay
from shared.backbone.unit_of_work import UnitOfWork
from shared.events import topics
from shared.events.envelope import from_kafka
from tests.conftest import eventually
from tests.events_factory import Note

pytestmark = pytest.mark.integration


async def _append(engine, relay, notes: dict[str, Note], rounds: int) -> None:
    for r in range(rounds):
        for note in notes.values():
            async with UnitOfWork(engine, on_commit=relay.wake) as uow:
                current = await uow.get(Note, note.id) or note
                uow.add(current)
                current.retitle(f"round {r}")
                await uow.commit()


def _ours(message, stream_ids: set[str]) -> bool:
    return message.key is not None and message.key.decode() in stream_ids


async def _read_topic(kafka: KafkaAccess, stream_ids: set[str], expected: int) -> list:
    consumer = AIOKafkaConsumer(topics.CLM_CONTRACTS, **kafka.options(), group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        async with asyncio.timeout(60):
            while len(found) < expected:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    for m in messages:
                        if _ours(m, stream_ids):  # others' messages, a forged one among them, are not read
                            found.append((m.partition, m.offset, from_kafka(m.headers, m.key, m.value)))
        # and nothing more arrives (no duplicates trailing behind)
        for messages in (await consumer.getmany(timeout_ms=2000)).values():
            found += [(m.partition, m.offset, from_kafka(m.headers, m.key, m.value)) for m in messages if _ours(m, stream_ids)]
    finally:
        await consumer.stop()
    return found


def _assert_once_and_in_order(found: list, expected_per_stream: int, streams: set[str]) -> None:
    ids = [e.event_id for _, _, e in found]
    assert len(ids) == len(set(ids)), "an event was published twice"
    by_key: dict[str, list[int]] = {}
    for _, _, e in sorted(found, key=lambda f: (f[0], f[1])):
        by_key.setdefault(e.key, []).append(e.stream_version)
    assert set(by_key) == streams
    for key, versions in by_key.items():
        assert versions == list(range(1, expected_per_stream + 1)), f"stream {key} out of order: {versions}"


async def test_relay_publishes_every_event_once_in_order_per_key(scratch_engine, stack):
    relay = OutboxRelay(scratch_engine, lambda: idempotent_producer(stack.kafka_admin, "test-relay"), service="test")
    notes = {n.id: n for n in (Note(str(uuid.uuid4())) for _ in range(5))}
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await _append(scratch_engine, relay, notes, rounds=4)
    await eventually(lambda: _backlog_empty(relay))
    stop.set()
    await running
    await relay.close()
    found = await _read_topic(stack.kafka_admin, set(notes), expected=20)
    _assert_once_and_in_order(found, 4, set(notes))


async def _backlog_empty(relay) -> bool:
    return (await relay.backlog()).count == 0


async def test_relay_survives_a_broker_stop_and_start(scratch_engine, stack):
    if stack.kafka is None:
        pytest.skip(f"the broker is {stack.kind}: this test must stop and start it itself")
    relay = OutboxRelay(scratch_engine, lambda: idempotent_producer(stack.kafka_admin, "test-relay"),
                        service="test", max_backoff=1.0)
    notes = {n.id: n for n in (Note(str(uuid.uuid4())) for _ in range(6))}
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await _append(scratch_engine, relay, notes, rounds=2)
    await eventually(lambda: _backlog_empty(relay))

    await asyncio.to_thread(stack.kafka.stop)
    await _append(scratch_engine, relay, notes, rounds=3)  # commands keep working while Kafka is down
    await asyncio.sleep(2)
    backlog = await relay.backlog()
    assert backlog.count == 18, "events wait in the outbox while the broker is down"
    assert backlog.oldest_age_seconds > 0

    await asyncio.to_thread(stack.kafka.start)
    await eventually(lambda: _backlog_empty(relay), timeout=90)
    stop.set()
    await running
    await relay.close()
    found = await _read_topic(stack.kafka_admin, set(notes), expected=30)
    _assert_once_and_in_order(found, 5, set(notes))


async def test_relay_resumes_after_restart_from_its_checkpoint(scratch_engine, stack):
    def make_relay():
        return OutboxRelay(scratch_engine, lambda: idempotent_producer(stack.kafka_admin, "test-relay"), service="test")

    notes = {n.id: n for n in (Note(str(uuid.uuid4())) for _ in range(3))}
    first = make_relay()
    await _append(scratch_engine, first, notes, rounds=1)
    assert await first.publish_batch() == 3
    await first.close()
    await _append(scratch_engine, first, notes, rounds=1)  # written while no relay runs
    second = make_relay()
    assert (await second.backlog()).count == 3
    assert await second.publish_batch() == 3
    await second.close()
    found = await _read_topic(stack.kafka_admin, set(notes), expected=6)
    _assert_once_and_in_order(found, 2, set(notes))
