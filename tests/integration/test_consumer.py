"""The shared consumer on real PostgreSQL and Kafka: exactly-once effects under redelivery,
poison messages to the dead-letter topic while later messages still flow."""

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.backbone.consumer import EventConsumer
from shared.backbone.kafka import ensure_topics, idempotent_producer
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope, to_kafka
from tests.conftest import eventually
from tests.events_factory import drafted

pytestmark = pytest.mark.integration


async def count_effect(uow: UnitOfWork, envelope: Envelope) -> None:
    if envelope.event.title == "poison":
        raise ValueError("this contract title cannot be processed")
    await uow.conn.execute(
        sa.text("INSERT INTO effects VALUES (:e, 1) ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1"),
        {"e": envelope.event_id},
    )


async def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, list, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for key, headers, value in messages:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def _message(envelope: Envelope) -> tuple[bytes, list, bytes]:
    _, headers, value, key = to_kafka(envelope)
    return key.encode(), headers, value


async def _effects(engine) -> dict:
    async with engine.connect() as conn:
        return {r.event_id: r.applied for r in await conn.execute(sa.text("SELECT event_id, applied FROM effects"))}


async def _run_until(consumer: EventConsumer, condition, timeout: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(condition, timeout=timeout)
    finally:
        stop.set()
        await task


def _consumer(engine, stack, topic: str, name: str, group: str | None = None) -> EventConsumer:
    return EventConsumer(
        engine, name=name, group_id=group, topics=[topic], handle=count_effect, bootstrap_servers=stack.kafka_bootstrap,
        producer_factory=lambda: idempotent_producer(stack.kafka_bootstrap, "test-dlq"), retry_backoff=0.05,
    )


async def test_redelivered_event_takes_effect_once(scratch_engine, stack):
    topic, name = f"test.redelivery.{uuid.uuid4().hex[:8]}", f"test-consumer-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_bootstrap, [topic])
    one, two = Envelope(drafted(), 1), Envelope(drafted(), 1)
    # The relay may resend an event after a lost acknowledgement: the same event id twice.
    await _produce(stack.kafka_bootstrap, topic, [_message(one), _message(one), _message(two)])

    async def both_applied():
        return len(await _effects(scratch_engine)) == 2

    await _run_until(_consumer(scratch_engine, stack, topic, name), both_applied)
    # Kafka redelivers everything to a member that lost its offsets (a new group, same inbox).
    replay = _consumer(scratch_engine, stack, topic, name, group=f"{name}-replay")
    await _run_until(replay, lambda: _inbox_seen_by(scratch_engine, name, 2))
    await asyncio.sleep(1)
    assert await _effects(scratch_engine) == {one.event_id: 1, two.event_id: 1}


async def _inbox_seen_by(engine, consumer: str, n: int) -> bool:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT count(*) FROM inbox WHERE consumer = :c"), {"c": consumer})).scalar_one()
    return rows == n


async def test_poison_message_goes_to_dead_letter_topic_and_later_ones_still_flow(scratch_engine, stack):
    topic, name = f"test.poison.{uuid.uuid4().hex[:8]}", f"test-consumer-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_bootstrap, [topic])
    before, poison, after = Envelope(drafted(), 1), Envelope(drafted(title="poison"), 1), Envelope(drafted(), 1)
    garbage = (b"k", [("ce_type", b"nonsense")], b"{not json")
    await _produce(stack.kafka_bootstrap, topic, [_message(before), _message(poison), garbage, _message(after)])

    consumer = _consumer(scratch_engine, stack, topic, name)

    async def later_applied():
        return after.event_id in await _effects(scratch_engine)

    await _run_until(consumer, later_applied)
    assert await _effects(scratch_engine) == {before.event_id: 1, after.event_id: 1}

    dead = AIOKafkaConsumer(consumer.dead_letter_topic, bootstrap_servers=stack.kafka_bootstrap, group_id=None,
                            auto_offset_reset="earliest")
    await dead.start()
    letters = []
    try:
        async with asyncio.timeout(30):
            while len(letters) < 2:
                for messages in (await dead.getmany(timeout_ms=500)).values():
                    letters += messages
    finally:
        await dead.stop()
    # The two letters come from different partitions: their order in the dead-letter topic is not defined.
    by_reason = {dict(m.headers)["dlq_reason"].decode().split(":")[0]: dict(m.headers) for m in letters}
    assert set(by_reason) == {"ValueError", "invalid envelope"}
    poisoned = by_reason["ValueError"]
    assert poisoned["dlq_reason"] == b"ValueError: this contract title cannot be processed"
    assert poisoned["ce_id"] == str(poison.event_id).encode()
    assert poisoned["dlq_source_topic"] == topic.encode()
    assert by_reason["invalid envelope"]["dlq_source_topic"] == topic.encode()
    async with scratch_engine.connect() as conn:
        outcome = (await conn.execute(sa.text("SELECT outcome FROM inbox WHERE event_id = :e"), {"e": poison.event_id})).scalar_one()
    assert outcome == "dead_lettered"
