"""The shared consumer on real PostgreSQL and Kafka: exactly-once effects under redelivery,
poison messages to the dead-letter topic while later messages still flow."""

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from shared.backbone.consumer import EventConsumer
from shared.backbone.event_routing import Batched, Prefetching, dispatcher
from shared.backbone.kafka import KafkaAccess, admin_client, ensure_topics, idempotent_producer
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractDrafted
from shared.events.envelope import Envelope, to_kafka
from tests.conftest import eventually
from tests.events_factory import Note, approved_quote, drafted

pytestmark = pytest.mark.integration


async def count_effect(uow: UnitOfWork, envelope: Envelope) -> None:
    if envelope.event.title == "poison":
        raise ValueError("this contract title cannot be processed")
    await uow.conn.execute(
        sa.text("INSERT INTO effects VALUES (:e, 1) ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1"),
        {"e": envelope.event_id},
    )


async def _produce(kafka: KafkaAccess, topic: str, messages: list[tuple[bytes | None, list, bytes]]) -> None:
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True)
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
        engine, name=name, group_id=group, topics=[topic], handle=count_effect, kafka=stack.kafka_admin,
        producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"), retry_backoff=0.05,
    )


async def test_redelivered_event_takes_effect_once(scratch_engine, stack):
    topic, name = f"test.redelivery.{uuid.uuid4().hex[:8]}", f"test-consumer-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_admin, [topic])
    one, two = Envelope(drafted(), 1), Envelope(drafted(), 1)
    # The relay may resend an event after a lost acknowledgement: the same event id twice.
    await _produce(stack.kafka_admin, topic, [_message(one), _message(one), _message(two)])

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
    await ensure_topics(stack.kafka_admin, [topic])
    before, poison, after = Envelope(drafted(), 1), Envelope(drafted(title="poison"), 1), Envelope(drafted(), 1)
    garbage = (b"k", [("ce_type", b"nonsense")], b"{not json")
    await _produce(stack.kafka_admin, topic, [_message(before), _message(poison), garbage, _message(after)])

    consumer = _consumer(scratch_engine, stack, topic, name)

    async def later_applied():
        return after.event_id in await _effects(scratch_engine)

    # The consumer keeps running while the letters are read: the poison and the garbage are on other
    # partitions than the last message, so they may still be on their way when it is applied.
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(later_applied, timeout=60)
        dead = AIOKafkaConsumer(consumer.dead_letter_topic, **stack.kafka_admin.options(), group_id=None,
                                auto_offset_reset="earliest", metadata_max_age_ms=500)  # the topic may be new
        await dead.start()
        letters = []
        try:
            async with asyncio.timeout(60):
                while len(letters) < 2:
                    for messages in (await dead.getmany(timeout_ms=500)).values():
                        letters += messages
        finally:
            await dead.stop()
    finally:
        stop.set()
        await running
    assert await _effects(scratch_engine) == {before.event_id: 1, after.event_id: 1}
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


# Batches: the messages of one partition from one fetch share a transaction. A one-partition topic
# filled before the consumer starts is fetched in one batch.

def _consumed(name: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("consumer_events_total", {"consumer": name, "outcome": outcome}) or 0.0


async def _one_partition_topic(stack, prefix: str) -> tuple[str, str]:
    topic, name = f"test.{prefix}.{uuid.uuid4().hex[:8]}", f"test-consumer-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_admin, [topic], partitions=1)
    return topic, name


async def _transactions_of(engine, consumer: str) -> int:
    """How many transactions wrote this consumer's inbox rows (now() is the transaction's start)."""
    async with engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(DISTINCT processed_at) FROM inbox WHERE consumer = :c"),
                                   {"c": consumer})).scalar_one()


async def retitle_note(uow: UnitOfWork, envelope: Envelope) -> None:
    """Appends one event to the note named by the contract id, creating the note if need be."""
    if envelope.event.title == "poison":
        raise ValueError("this contract title cannot be processed")
    note_id = str(envelope.event.contract_id)
    note = await uow.get(Note, note_id)
    if note is None:
        note = Note(note_id)
        uow.add(note)
    note.retitle(envelope.event.title)


async def _note_events(engine) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(sa.text(
            "SELECT stream_id, version, payload->>'title' AS title, correlation_id, causation_id FROM events ORDER BY position")))


async def test_a_batch_takes_effect_once_per_message_and_its_redelivery_not_at_all(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch")
    envelopes = [Envelope(drafted(), 1) for _ in range(20)]
    messages = [_message(e) for e in envelopes]
    messages.insert(7, _message(envelopes[3]))  # a resent copy inside the same batch
    await _produce(stack.kafka_admin, topic, messages)

    async def all_applied():
        return len(await _effects(scratch_engine)) == 20

    await _run_until(_consumer(scratch_engine, stack, topic, name), all_applied)
    assert await _effects(scratch_engine) == {e.event_id: 1 for e in envelopes}
    assert await _transactions_of(scratch_engine, name) == 1
    assert _consumed(name, "applied") == 20 and _consumed(name, "duplicate") == 1

    # The whole batch again (a member that lost its offsets): every message is a duplicate.
    replay = _consumer(scratch_engine, stack, topic, name, group=f"{name}-replay")

    async def all_seen_again():
        return _consumed(name, "duplicate") == 1 + 21

    await _run_until(replay, all_seen_again)
    assert await _effects(scratch_engine) == {e.event_id: 1 for e in envelopes}
    assert _consumed(name, "applied") == 20


async def test_a_poison_message_inside_a_batch_is_dead_lettered_and_the_others_applied_once(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-poison")
    good = [Envelope(drafted(), 1) for _ in range(9)]
    poison = Envelope(drafted(title="poison"), 1)
    envelopes = good[:4] + [poison] + good[4:]
    await _produce(stack.kafka_admin, topic, [_message(e) for e in envelopes])
    consumer = _consumer(scratch_engine, stack, topic, name)

    async def all_done():
        async with scratch_engine.connect() as conn:
            return (await conn.execute(sa.text("SELECT count(*) FROM inbox WHERE consumer = :c"), {"c": name})).scalar_one() == 10

    await _run_until(consumer, all_done)
    assert await _effects(scratch_engine) == {e.event_id: 1 for e in good}
    async with scratch_engine.connect() as conn:
        outcomes = dict((await conn.execute(sa.text("SELECT event_id, outcome FROM inbox WHERE consumer = :c"), {"c": name})).all())
    assert outcomes == {**{e.event_id: "applied" for e in good}, poison.event_id: "dead_lettered"}
    assert _consumed(name, "dead_lettered") == 1 and _consumed(name, "applied") == 9

    dead = AIOKafkaConsumer(consumer.dead_letter_topic, **stack.kafka_admin.options(), group_id=None,
                            auto_offset_reset="earliest", metadata_max_age_ms=500)  # the topic may be new: look often
    await dead.start()
    letters = []
    try:
        async with asyncio.timeout(30):
            while not letters:
                for messages in (await dead.getmany(timeout_ms=500)).values():
                    letters += messages
        for messages in (await dead.getmany(timeout_ms=1000)).values():
            letters += messages
    finally:
        await dead.stop()
    assert [dict(m.headers)["ce_id"] for m in letters] == [str(poison.event_id).encode()]


async def test_each_event_appended_in_a_batch_names_its_own_message_as_cause(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-cause")
    envelopes = [Envelope(drafted(title=f"m{i}"), 1, correlation_id=f"corr-{i}") for i in range(12)]
    await _produce(stack.kafka_admin, topic, [_message(e) for e in envelopes])
    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=retitle_note, kafka=stack.kafka_admin,
        producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"),
    )

    async def all_appended():
        return len(await _note_events(scratch_engine)) == 12

    await _run_until(consumer, all_appended)
    assert await _transactions_of(scratch_engine, name) == 1
    rows = await _note_events(scratch_engine)
    assert [(r.stream_id, r.title, r.correlation_id, r.causation_id) for r in rows] == [
        (str(e.event.contract_id), e.event.title, e.correlation_id, str(e.event_id)) for e in envelopes]


async def test_two_messages_for_the_same_aggregate_in_one_batch_both_take_effect(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-same")
    existing, fresh = uuid.uuid4(), uuid.uuid4()
    note = Note(str(existing))
    note.retitle("before")
    async with UnitOfWork(scratch_engine) as uow:
        uow.add(note)
        await uow.commit()
    envelopes = [
        Envelope(drafted(existing, "e1"), 1), Envelope(drafted(fresh, "f1"), 1), Envelope(drafted(), 1),
        Envelope(drafted(existing, "e2"), 1), Envelope(drafted(fresh, "f2"), 1),
    ]
    await _produce(stack.kafka_admin, topic, [_message(e) for e in envelopes])
    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=retitle_note, kafka=stack.kafka_admin,
        producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"),
    )

    async def all_appended():
        return len(await _note_events(scratch_engine)) == 6

    await _run_until(consumer, all_appended)
    assert await _transactions_of(scratch_engine, name) == 1
    rows = await _note_events(scratch_engine)
    by_stream = {}
    for r in rows:
        by_stream.setdefault(r.stream_id, []).append((r.version, r.title))
    assert by_stream[str(existing)] == [(1, "before"), (2, "e1"), (3, "e2")]
    assert by_stream[str(fresh)] == [(1, "f1"), (2, "f2")]
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, str(existing))).titles == ["before", "e1", "e2"]
        assert (await uow.get(Note, str(fresh))).titles == ["f1", "f2"]


async def test_an_infrastructure_failure_retries_the_batch_as_a_batch(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-outage")
    envelopes = [Envelope(drafted(), 1) for _ in range(8)]
    await _produce(stack.kafka_admin, topic, [_message(e) for e in envelopes])
    failures = [OperationalError("INSERT ...", {}, ConnectionError("the database went away"))] * 2

    async def flaky(uow: UnitOfWork, envelope: Envelope) -> None:
        if envelope.event_id == envelopes[5].event_id and failures:
            raise failures.pop()
        await count_effect(uow, envelope)

    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=flaky, kafka=stack.kafka_admin,
        producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"), retry_backoff=0.05,
    )

    async def all_applied():
        return len(await _effects(scratch_engine)) == 8

    await _run_until(consumer, all_applied)
    assert failures == []
    assert await _effects(scratch_engine) == {e.event_id: 1 for e in envelopes}
    assert await _transactions_of(scratch_engine, name) == 1


async def test_a_consumer_not_yet_authorized_to_read_waits_for_its_acl_instead_of_ending(scratch_engine, stack):
    if not stack.secured:
        pytest.skip("the broker of this run does not authorize clients")
    from shared.backbone.kafka_acls import Acl, create_acls

    topic, name = f"test.authz.{uuid.uuid4().hex[:8]}", f"authz-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_admin, [topic], partitions=1)
    event = Envelope(drafted(uuid.uuid4()), stream_version=1)
    await _produce(stack.kafka_admin, topic, [_message(event)])
    clm = stack.kafka_for("clm")  # may read its own group, not yet this topic
    consumer = EventConsumer(scratch_engine, name=name, group_id="clm", topics=[topic], handle=count_effect, kafka=clm,
                             producer_factory=lambda: idempotent_producer(clm, "test-dlq"), retry_backoff=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await asyncio.sleep(3)
        assert not running.done(), running.exception() if running.done() else None
        assert await _effects(scratch_engine) == {}
        await create_acls(stack.kafka_admin, [Acl("User:clm", "TOPIC", topic, "READ")])

        async def applied():
            return (await _effects(scratch_engine)).get(event.event_id) == 1

        await eventually(applied, timeout=60)
    finally:
        stop.set()
        await running


def _batched_effects(calls: list[list[str]]) -> Batched:
    """Counts each event's effect with one statement per run, noting the runs it was given."""

    async def count_all(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
        if any(e.event.title == "poison" for e in envelopes):
            raise ValueError("this contract title cannot be processed")
        calls.append([e.event.title for e in envelopes])
        await uow.conn.execute(sa.text(
            "INSERT INTO effects SELECT e, 1 FROM unnest(CAST(:ids AS uuid[])) AS e"
            " ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1"),
            {"ids": [e.event_id for e in envelopes]})

    return Batched(count_all)


async def test_a_batched_handler_gets_a_fetch_of_its_events_as_one_run_in_order_and_each_once(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-run")
    envelopes = [Envelope(drafted(title=f"m{i:02}"), 1) for i in range(15)]
    messages = [_message(e) for e in envelopes]
    messages.insert(9, _message(envelopes[2]))  # a resent copy: not part of the run
    await _produce(stack.kafka_admin, topic, messages)
    calls: list[list[str]] = []
    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=dispatcher({ContractDrafted: _batched_effects(calls)}),
        kafka=stack.kafka_admin, producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"),
    )

    async def all_applied():
        return len(await _effects(scratch_engine)) == 15

    await _run_until(consumer, all_applied)
    assert calls == [[f"m{i:02}" for i in range(15)]]
    assert await _effects(scratch_engine) == {e.event_id: 1 for e in envelopes}
    assert await _transactions_of(scratch_engine, name) == 1


async def test_a_poison_event_in_a_run_fails_the_run_and_the_others_are_applied_one_by_one(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-run-poison")
    good = [Envelope(drafted(title=f"g{i}"), 1) for i in range(6)]
    poison = Envelope(drafted(title="poison"), 1)
    await _produce(stack.kafka_admin, topic, [_message(e) for e in good[:3] + [poison] + good[3:]])
    calls: list[list[str]] = []
    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=dispatcher({ContractDrafted: _batched_effects(calls)}),
        kafka=stack.kafka_admin, producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"),
        retry_backoff=0.05,
    )

    async def all_done():
        async with scratch_engine.connect() as conn:
            return (await conn.execute(sa.text("SELECT count(*) FROM inbox WHERE consumer = :c"), {"c": name})).scalar_one() == 7

    await _run_until(consumer, all_done)
    assert calls == [[e.event.title] for e in good]
    assert await _effects(scratch_engine) == {e.event_id: 1 for e in good}


async def test_prefetched_streams_give_the_same_events_as_reading_each(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-prefetch")
    existing = uuid.uuid4()
    note = Note(str(existing))
    note.retitle("before")
    async with UnitOfWork(scratch_engine) as uow:
        uow.add(note)
        await uow.commit()
    envelopes = [Envelope(drafted(existing, "e1"), 1, correlation_id="c1"), Envelope(drafted(title="n1"), 1),
                 Envelope(drafted(existing, "e2"), 1, correlation_id="c2")]
    await _produce(stack.kafka_admin, topic, [_message(e) for e in envelopes])
    reads = Prefetching(retitle_note, lambda envelope: [str(envelope.event.contract_id)])
    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=dispatcher({ContractDrafted: reads}),
        kafka=stack.kafka_admin, producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"),
    )

    async def all_appended():
        return len(await _note_events(scratch_engine)) == 4

    await _run_until(consumer, all_appended)
    rows = [r for r in await _note_events(scratch_engine) if r.stream_id == str(existing)]
    assert [(r.title, r.correlation_id, r.causation_id) for r in rows][1:] == [
        ("e1", "c1", str(envelopes[0].event_id)), ("e2", "c2", str(envelopes[2].event_id))]
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, str(existing))).titles == ["before", "e1", "e2"]


async def test_events_of_a_known_type_nobody_handles_are_passed_over_without_an_inbox_row(scratch_engine, stack):
    topic, name = await _one_partition_topic(stack, "batch-ignored")
    quotes = [Envelope(approved_quote(), 1) for _ in range(3)]
    drafts = [Envelope(drafted(title=f"d{i}"), 1) for i in range(3)]
    # Ending on a passed-over event after a handled one: the committed offset must pass it too, or
    # the group looks behind (lag 1) until the next message arrives.
    await _produce(stack.kafka_admin, topic, [_message(e) for e in [quotes[0], drafts[0], quotes[1], drafts[1],
                                                                      drafts[2], quotes[2]]])
    calls: list[list[str]] = []
    consumer = EventConsumer(
        scratch_engine, name=name, topics=[topic], handle=dispatcher({ContractDrafted: _batched_effects(calls)}),
        kafka=stack.kafka_admin, producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"),
    )

    async def all_passed():
        return _consumed(name, "ignored") == 3 and len(await _effects(scratch_engine)) == 3

    await _run_until(consumer, all_passed)
    assert calls == [["d0", "d1", "d2"]]  # the passed-over events do not end the run
    async with scratch_engine.connect() as conn:
        seen = set((await conn.execute(sa.text("SELECT event_id FROM inbox WHERE consumer = :c"), {"c": name})).scalars())
    assert seen == {e.event_id for e in drafts}
    admin = admin_client(stack.kafka_admin)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(name)
    finally:
        await admin.close()
    assert [meta.offset for meta in committed.values()] == [6]
