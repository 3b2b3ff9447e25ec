"""Outages of PostgreSQL and Kafka are neither poison messages nor server errors.

The real PostgreSQL is restarted under a flow of events (20/s) through a consumer whose handler
appends an event per message, with the relay publishing what it appends: a smart shutdown (open
sessions finish first, new ones are refused) while the consumer is mid-batch, and a fast one
(open transactions rolled back) with the database down for a while. Nothing is dead-lettered,
every message takes effect once, and every event written reaches Kafka once, in order per key.
A running service answers 503 with a problem body while the database is down and its commands
keep answering while Kafka is down.

These tests stop the session's PostgreSQL and broker; the `database` and `broker` fixtures
(tests/conftest.py) leave them up and ready for the tests after them.
"""

import asyncio
import logging
import uuid
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import REGISTRY

from shared.backbone.consumer import EventConsumer
from shared.backbone.kafka import KafkaAccess, ensure_topics, idempotent_producer
from shared.backbone.outbox import OutboxRelay
from shared.backbone.unit_of_work import UnitOfWork
from shared.events import topics
from shared.events.envelope import Envelope, to_kafka
from tests.conftest import FIXTURES, _admin_db_url, bearer, eventually, migrated_schema, running_service
from tests.events_factory import Note, drafted
from tests.integration.test_outbox_relay import _read_topic

pytestmark = pytest.mark.integration

RATE = 20  # events per second, as in the incident


def _retries(component: str, dependency: str) -> float:
    return REGISTRY.get_sample_value("dependency_retries_total", {"component": component, "dependency": dependency}) or 0.0


# --- a flow of events through a consumer and the relay, across a restart of the database ---

async def _append_to_note(uow: UnitOfWork, envelope: Envelope) -> None:
    """The effect: one event on the note named by the contract id (created on its first event)."""
    note_id = str(envelope.event.contract_id)
    note = await uow.get(Note, note_id)
    if note is None:
        note = Note(note_id)
        uow.add(note)
    note.retitle(envelope.event.title)


class HoldMidBatch:
    """Handles like `_append_to_note`; the message titled "hold" keeps its transaction open a
    while, so the database goes down with the consumer mid-batch."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.reached = asyncio.Event()

    async def __call__(self, uow: UnitOfWork, envelope: Envelope) -> None:
        await _append_to_note(uow, envelope)
        if envelope.event.title == "hold" and not self.reached.is_set():
            self.reached.set()
            await asyncio.sleep(self.seconds)


def _message(envelope: Envelope) -> tuple[bytes, list, bytes]:
    _, headers, value, key = to_kafka(envelope)
    return key.encode(), headers, value


async def _produce(producer: AIOKafkaProducer, topic: str, envelopes: list[Envelope], sent: list[Envelope]) -> None:
    for envelope in envelopes:
        key, headers, value = _message(envelope)
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        sent.append(envelope)


async def _flow(producer: AIOKafkaProducer, topic: str, notes: list[str], stop: asyncio.Event, sent: list) -> None:
    i = 0
    while not stop.is_set():
        await _produce(producer, topic, [Envelope(drafted(uuid.UUID(notes[i % len(notes)]), f"m{i}"), 1)], sent)
        i += 1
        await asyncio.sleep(1 / RATE)


async def _inbox(engine, consumer: str) -> dict:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_id, outcome FROM inbox WHERE consumer = :c"), {"c": consumer})
        return dict(rows.all())


async def _dead_letters(kafka: KafkaAccess, topic: str) -> list:
    await ensure_topics(kafka, [topic])
    reader = AIOKafkaConsumer(topic, **kafka.options(), group_id=None, auto_offset_reset="earliest")
    await reader.start()
    try:
        letters = []
        for messages in (await reader.getmany(timeout_ms=3000)).values():
            letters += messages
        return letters
    finally:
        await reader.stop()


async def _stored_events(engine) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(sa.text(
            "SELECT stream_id, version, event_id, causation_id, payload->>'title' AS title FROM events ORDER BY position")))


async def _take_down(database, mode: str, down_seconds: float) -> float:
    """Stops the database, leaves it down a while, starts it; returns how long the stop took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.to_thread(database.stop, mode, 60)
    stopped = loop.time() - began
    await asyncio.sleep(down_seconds)
    await asyncio.to_thread(database.start)
    return stopped


@asynccontextmanager
async def _an_idle_service(stack):
    """Another service on the same database, with no traffic at the moment: its pool holds ten
    idle sessions, and its relay polls. A smart shutdown waits for its sessions too."""
    async with migrated_schema(stack, FIXTURES / "backbone_migrations", "idle", pool_size=10, pool_recycle=1) as engine:
        connections = [await engine.connect() for _ in range(10)]
        for conn in connections:
            await conn.close()
        relay = OutboxRelay(engine, lambda: idempotent_producer(stack.kafka_admin, "test-idle-relay"), service="idle")
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))
        try:
            yield
        finally:
            stop.set()
            await running
            await relay.close()


@pytest.mark.parametrize("mode, down_seconds", [("smart", 0), ("fast", 3)], ids=["smart-restart", "fast-stop-3s-start"])
async def test_a_flow_of_events_goes_through_a_database_restart_with_no_dead_letter_and_every_effect_once(
        stack, database, mode, down_seconds):
    topic, name = f"test.outage.{uuid.uuid4().hex[:8]}", f"test-outage-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_admin, [topic, topics.CLM_CONTRACTS], partitions=2)
    notes = [str(uuid.uuid4()) for _ in range(4)]
    hold = HoldMidBatch(seconds=1.5)
    retries_before = {c: _retries(c, "database") for c in ("consumer", "outbox")}
    # A recycle after one second stands for the services' 30: how soon an engine tries a fresh
    # connection, and so learns that the server is shutting down and lets go of its sessions.
    async with _an_idle_service(stack), \
            migrated_schema(stack, FIXTURES / "backbone_migrations", "outage", pool_recycle=1) as engine:
        relay = OutboxRelay(engine, lambda: idempotent_producer(stack.kafka_admin, "test-relay"),
                            service="test", max_backoff=1.0)
        consumer = EventConsumer(
            engine, name=name, topics=[topic], handle=hold, kafka=stack.kafka_admin,
            producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"), on_commit=relay.wake,
            retry_backoff=0.05,
        )
        stop, stop_flow, sent = asyncio.Event(), asyncio.Event(), []
        workers = [asyncio.create_task(consumer.run(stop)), asyncio.create_task(relay.run(stop))]
        producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
        await producer.start()
        try:
            flow = asyncio.create_task(_flow(producer, topic, notes, stop_flow, sent))

            async def flowing():
                return len(await _inbox(engine, name)) >= 20

            await eventually(flowing, timeout=60)
            # A burst for one note comes in one fetch: one batch, held open at its sixth message.
            burst = [Envelope(drafted(uuid.UUID(notes[0]), t), 1) for t in ["b1", "b2", "b3", "b4", "b5", "hold", "b7", "b8"]]
            await _produce(producer, topic, burst, sent)
            await asyncio.wait_for(hold.reached.wait(), 30)
            loop = asyncio.get_running_loop()
            began = loop.time()
            stop_took = await _take_down(database, mode, down_seconds)
            back, sent_by_then = loop.time(), len(sent)

            async def recovered():
                return len(await _inbox(engine, name)) >= sent_by_then

            await eventually(recovered, timeout=60)
            caught_up = loop.time()
            await asyncio.sleep(2)  # the flow goes on after the restart
            stop_flow.set()
            await flow

            async def all_taken_in():
                return len(await _inbox(engine, name)) == len(sent)

            async def all_published():
                return (await relay.backlog()).count == 0

            await eventually(all_taken_in, timeout=120)
            await eventually(all_published, timeout=60)
        finally:
            stop_flow.set()
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
            await relay.close()
            await producer.stop()
        for worker in workers:
            assert worker.exception() is None

        assert await _dead_letters(stack.kafka_admin, consumer.dead_letter_topic) == []
        assert await _inbox(engine, name) == {e.event_id: "applied" for e in sent}
        stored = await _stored_events(engine)
        # every message took effect once, in its order per note
        assert sorted(r.causation_id for r in stored) == sorted(str(e.event_id) for e in sent)
        for note in notes:
            assert [r.title for r in stored if r.stream_id == note] == [
                e.event.title for e in sent if str(e.event.contract_id) == note]
        # every event written, before and after the restart, reached Kafka once, in order per key
        found = await _read_topic(stack.kafka_admin, set(notes), expected=len(stored))
        published = [e for _, _, e in sorted(found, key=lambda f: (f[0], f[1]))]
        assert sorted(e.event_id for e in published) == sorted(r.event_id for r in stored), "lost or published twice"
        for note in notes:
            assert [e.stream_version for e in published if e.key == note] == [r.version for r in stored if r.stream_id == note]
    retried = {c: _retries(c, "database") - before for c, before in retries_before.items()}
    print(f"\n{mode}: {len(sent)} events, the stop took {stop_took:.1f}s, database back after {back - began:.1f}s, "
          f"the consumer caught up {caught_up - back:.1f}s later; retries: {retried}")
    assert retried["consumer"] > 0, "the consumer did not meet the outage: the test proves nothing"
    # The services let go of their sessions once the database says it is shutting down.
    assert stop_took < 10


async def _committed(kafka: KafkaAccess, group: str) -> dict:
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        return {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group)).items()}
    finally:
        await admin.close()


async def test_a_consumer_stopped_amid_an_outage_dead_letters_nothing_and_leaves_its_messages_to_the_next(stack, database):
    topic, name = f"test.outage-stop.{uuid.uuid4().hex[:8]}", f"test-outage-stop-{uuid.uuid4().hex[:6]}"
    await ensure_topics(stack.kafka_admin, [topic], partitions=1)
    envelopes = [Envelope(drafted(), 1) for _ in range(5)]
    async with migrated_schema(stack, FIXTURES / "backbone_migrations", "outage_stop") as engine:
        def consumer() -> EventConsumer:
            return EventConsumer(engine, name=name, topics=[topic], handle=_append_to_note, kafka=stack.kafka_admin,
                                 producer_factory=lambda: idempotent_producer(stack.kafka_admin, "test-dlq"), retry_backoff=0.05)

        producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
        await producer.start()
        try:
            await _produce(producer, topic, envelopes, [])
        finally:
            await producer.stop()
        await asyncio.to_thread(database.stop, "fast", 60)
        retries = _retries("consumer", "database")
        stop = asyncio.Event()
        first = consumer()
        running = asyncio.create_task(first.run(stop))

        async def retrying():
            return _retries("consumer", "database") >= retries + 3

        await eventually(retrying, timeout=60)
        stop.set()
        await running  # it stops, without a dead letter or an error
        assert await _committed(stack.kafka_admin, name) == {}, "an offset was committed amid the outage"

        await asyncio.to_thread(database.start)
        stop = asyncio.Event()
        running = asyncio.create_task(consumer().run(stop))

        async def all_applied():
            return len(await _inbox(engine, name)) == len(envelopes)

        try:
            await eventually(all_applied, timeout=60)
        finally:
            stop.set()
            await running
        assert await _inbox(engine, name) == {e.event_id: "applied" for e in envelopes}
        assert await _dead_letters(stack.kafka_admin, first.dead_letter_topic) == []


# --- a running service while its dependencies are down ---

class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def events(self, name: str) -> list[dict]:
        return [r.msg | {"levelname": r.levelname} for r in self.records
                if isinstance(r.msg, dict) and r.msg.get("event") == name]

    def tracebacks(self) -> list[str]:
        return [r.getMessage()[:200] for r in self.records if r.exc_info or "Traceback" in str(r.msg)]


def _contract(contract_id: uuid.UUID | None = None) -> dict:
    body = {
        "title": "Maintenance of robot cell 4",
        "parties": [{"role": "customer", "name": "ACME Robotics"}],
        "start_date": "2026-01-01", "end_date": "2026-12-31",
    }
    return body | ({"contract_id": str(contract_id)} if contract_id else {})


def _assert_unavailable(response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["rule"] == "service.unavailable" and body["status"] == 503
    assert body["dependency"] == dependency


async def _events_of(stack, schema: str, stream_id: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(_admin_db_url(stack))
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {schema}.events WHERE stream_id = $1", stream_id)
    finally:
        await conn.close()


async def test_while_the_database_is_down_a_service_answers_503_problems_and_after_the_restart_the_same_command_succeeds(
        stack, database, service_env):
    sales = bearer("sales")
    async with running_service("clm", service_env("clm")) as clm:
        first = await clm.post("/api/v1/contracts", json=_contract(), headers=sales)
        assert first.status_code == 201
        location = first.headers["location"]
        logs = Records()
        logging.getLogger().addHandler(logs)
        try:
            await asyncio.to_thread(database.stop, "fast", 60)
            retried = uuid.uuid4()
            _assert_unavailable(await clm.post("/api/v1/contracts", json=_contract(retried), headers=sales), "database")
            _assert_unavailable(await clm.get(location, headers=sales), "database")
            not_ready = await clm.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["checks"] == {"database": False, "kafka": True}
            assert not_ready.json()["unavailable"]["database"]  # why, in a few words
            warnings = logs.events("dependency.unavailable")
            assert [(w["dependency"], w["method"]) for w in warnings] == [("database", "POST"), ("database", "GET")]
            assert all(w["levelname"] == "WARNING" for w in warnings)

            await asyncio.to_thread(database.start)

            async def ready():
                return (await clm.get("/readyz")).status_code == 200

            await eventually(ready, timeout=30)
            again = await clm.post("/api/v1/contracts", json=_contract(retried), headers=sales)
            assert again.status_code == 201, again.text  # not 200: nothing of the failed attempt exists
            assert await _events_of(stack, "clm", str(retried)) == 1
            assert (await clm.get(location, headers=sales)).status_code == 200
            assert logs.tracebacks() == []
        finally:
            logging.getLogger().removeHandler(logs)


async def test_while_kafka_is_down_commands_still_answer_and_their_events_follow_when_it_is_back(stack, broker, service_env):
    sales, sales_ops = bearer("sales"), bearer("sales_ops")
    async with running_service("clm", service_env("clm")) as clm:
        await asyncio.to_thread(broker.stop)
        drafted_ = await clm.post("/api/v1/contracts", json=_contract(), headers=sales)
        assert drafted_.status_code == 201, drafted_.text
        contract_id = drafted_.json()["contract_id"]
        activated = await clm.post(f"/api/v1/contracts/{contract_id}/activation", json={}, headers=sales_ops)
        assert activated.status_code == 200, activated.text
        assert (await clm.get(f"/api/v1/contracts/{contract_id}", headers=sales)).status_code == 200
        not_ready = await clm.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"] == {"database": True, "kafka": False}
        assert not_ready.json()["unavailable"]["kafka"]

        await asyncio.to_thread(broker.start)

        async def ready():
            return (await clm.get("/readyz")).status_code == 200

        await eventually(ready, timeout=60)
        found = await _read_topic(stack.kafka_admin, {contract_id}, expected=4)
        assert [(e.event.event_type, e.event.schema_version) for _, _, e in found] == [
            ("ContractDrafted", 1), ("ContractActivated", 1), ("ContractActivated", 2),  # v1, then v2
            ("RenewalTermsSet", 1)]  # the renewal terms derived at activation (phase 7)
