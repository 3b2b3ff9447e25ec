"""The one Kafka consumer every service uses.

Each message is handled in a database transaction that also writes an inbox row
(consumer, event id): a redelivered event finds its row and is skipped, so its effect happens
exactly once. The messages of one partition from one fetch share one transaction: one statement
inserts their inbox rows (those it inserts are the new ones), the handler runs for each new one
in order (its events carry that message's correlation and causation ids), one append and one
COMMIT end it. If a message of the batch fails, the batch is rolled back and its messages go one
transaction each instead. Offsets are committed manually, after the transactions. A message that
still fails after bounded retries goes to the consumer's dead-letter topic with the reason, and the
consumer goes on. Database or broker outages are not the message's fault (`outages.py` says which
failures are outages): those are retried, with capped backoff and one warning line each, until
they pass, and count for nothing towards the message's attempts; meanwhile no offset is committed.
A consumer told to stop amid a failure leaves the message, uncommitted, to whoever reads the
partition next, rather than dead-letter it. A consumer the broker does not (yet) authorize for its
topics or group waits for its ACLs, with a warning each retry, instead of ending. The
transactions themselves (inbox rows, handlers, commit) are inbox.py's.
"""

import asyncio
import datetime as dt
from typing import Callable

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from shared.backbone.clock import Clock
from shared.backbone.event_routing import Handler
from shared.backbone.inbox import apply_batch, apply_once, record_in_inbox
from shared.backbone import kafka as kafka_clients
from shared.backbone.kafka import KafkaAccess
from shared.backbone.logging import correlation_id, get_logger
from shared.backbone.metrics import CONSUMED
from shared.backbone.outages import note_retry, outage, retry_delay, sleep_unless_stopped
from shared.backbone.unit_of_work import UnitOfWork, Views
from shared.events.base import registered_events
from shared.events.envelope import Envelope, InvalidEnvelope, from_kafka
from shared.events.topics import dead_letter_topic

log = get_logger(__name__)
_NOT_AUTHORIZED = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)


class _Abandoned(Exception):
    """Stopping amid a failure: the message stays uncommitted, for the partition's next reader."""


class EventConsumer:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        name: str,
        topics: list[str],
        group_id: str | None = None,
        handle: Handler,
        kafka: KafkaAccess,
        producer_factory: Callable[[], AIOKafkaProducer],
        on_commit: Callable[[], None] | None = None,
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        batch_size: int = 200,
        views: Views | None = None,
        clock: Clock | None = None,
        guard: sa.TextClause | None = None,
    ):
        self.name = name  # the inbox key: which effects this consumer has had
        self._group_id = group_id or name
        self._engine = engine
        self._topics = topics
        self._handle = handle
        self._kafka = kafka
        self._producer_factory = producer_factory
        self._on_commit = on_commit
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._batch_size = batch_size
        self._views = views
        self._guard = guard  # run first in each transaction (the projection's blue/green switch lock)
        self._clock = clock
        handles = getattr(handle, "handles", None)  # a dispatcher's event types
        self._ignored_types = None if handles is None else {
            (cls.cloudevent_type().encode(), str(cls.schema_version).encode())
            for cls in registered_events() if cls not in handles}
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq_producer: AIOKafkaProducer | None = None
        self._processed: dict[TopicPartition, int] = {}
        self._batch_lock = asyncio.Lock()
        self.dead_letter_topic = dead_letter_topic(name)
        self.assigned = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = await self._start(stop)
        if consumer is None:
            return
        self._consumer = consumer
        try:
            refused = 0
            while not stop.is_set():
                try:
                    batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                    refused = 0
                except _NOT_AUTHORIZED as exc:
                    refused += 1
                    await self._wait_for_acls(exc, refused, stop)
                    continue
                if not batches:
                    continue
                async with self._batch_lock:
                    try:
                        for messages in batches.values():
                            await self._process_batch(messages, stop)
                    except _Abandoned:
                        pass  # stopping: what was done before is committed, the rest is redelivered
                    await self._commit_offsets()
        finally:
            async with self._batch_lock:
                await self._commit_offsets()
            await consumer.stop()
            if self._dlq_producer is not None:
                await self._dlq_producer.stop()

    async def _start(self, stop: asyncio.Event) -> AIOKafkaConsumer | None:
        """A started consumer; while the broker is unreachable, retried until it is or `stop`."""
        attempt = 0
        while not stop.is_set():
            attempt += 1
            consumer = kafka_clients.consumer(
                self._kafka,
                group_id=self._group_id,
                client_id=self.name,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_interval_ms=300_000,
                metadata_max_age_ms=5_000,
            )
            consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
            try:
                await consumer.start()
                return consumer
            except Exception as exc:
                try:
                    await consumer.stop()
                except Exception:
                    pass
                if isinstance(exc, _NOT_AUTHORIZED):
                    await self._wait_for_acls(exc, attempt, stop)
                    continue
                if (found := outage(exc)) is None:
                    raise
                delay = retry_delay(attempt, self._retry_backoff)
                note_retry(log, "consumer", found, attempt, delay, consumer=self.name)
                await sleep_unless_stopped(stop, delay)
        return None

    async def _wait_for_acls(self, refusal: Exception, attempt: int, stop: asyncio.Event) -> None:
        """The broker refused this principal its topics or group. The ACLs may still be on their
        way (provisioning runs beside the services; a broker applies new ACLs a moment later), so
        say so and retry, rather than end the consumer while the service goes on answering HTTP
        without it."""
        delay = retry_delay(attempt, self._retry_backoff)
        log.warning("consumer.not_authorized", consumer=self.name, error=repr(refusal), attempt=attempt,
                    retry_in=round(delay, 3))
        await sleep_unless_stopped(stop, delay)

    async def _commit_offsets(self) -> None:
        if self._processed and self._consumer is not None:
            offsets, self._processed = self._processed, {}
            try:
                await self._consumer.commit(offsets)
            except Exception as exc:  # the inbox makes the replay after a lost commit harmless
                log.warning("consumer.commit_failed", consumer=self.name, error=repr(exc))

    async def _process_batch(self, messages: list, stop: asyncio.Event) -> None:
        """The messages of one partition, in order: together if they all pass, else one by one."""
        decoded: list[tuple[object, Envelope | InvalidEnvelope | None]] = []  # None: ignored
        for message in messages:
            if self._ignores(message):
                decoded.append((message, None))
                continue
            try:
                decoded.append((message, from_kafka(message.headers, message.key, message.value, message.topic)))
            except InvalidEnvelope as exc:
                decoded.append((message, exc))
        valid = [(message, envelope) for message, envelope in decoded if isinstance(envelope, Envelope)]
        batched = iter(await self._apply_batch(valid, stop) if len(valid) > 1 else ())
        # In offset order, so the offset to commit never passes a message not yet done (nor
        # falls back behind an ignored one after it).
        for message, envelope in decoded:
            if envelope is None:
                CONSUMED.labels(self.name, "ignored").inc()
            elif isinstance(envelope, InvalidEnvelope):
                await self._dead_letter(message, None, f"invalid envelope: {envelope}")
            elif outcome := next(batched, None):
                CONSUMED.labels(self.name, outcome).inc()
            else:  # alone, or its batch failed
                await self._process(message, envelope, stop)
            self._processed[TopicPartition(message.topic, message.partition)] = message.offset + 1

    def _ignores(self, message) -> bool:
        """A known event type this consumer has no handler for: no effect to have, so neither
        decoded nor given an inbox row (a topic carries many types; most consumers want a few).
        Anything else, malformed or forged included, is decoded and judged as before."""
        if self._ignored_types is None:
            return False
        headers = dict(message.headers or ())
        return (headers.get("ce_type"), headers.get("ce_schemaversion")) in self._ignored_types

    async def _apply_batch(self, valid: list[tuple[object, Envelope]], stop: asyncio.Event) -> list[str]:
        """The outcome of each message, in order; none when one of them failed (all rolled back)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                applied = await apply_batch(
                    self._engine, self.name,
                    [(envelope, message.topic, message.partition, message.offset) for message, envelope in valid],
                    self._handle, on_commit=self._on_commit, views=self._views, clock=self._clock,
                    guard=self._guard,
                )
                return ["applied" if a else "duplicate" for a in applied]
            except Exception as exc:
                if (found := outage(exc)) is None:
                    log.info("consumer.batch_failed", consumer=self.name, messages=len(valid), error=repr(exc))
                    return []
                if stop.is_set():
                    raise _Abandoned() from exc
                delay = retry_delay(attempt, self._retry_backoff)
                note_retry(log, "consumer", found, attempt, delay, consumer=self.name, messages=len(valid))
                await sleep_unless_stopped(stop, delay)

    async def _process(self, message, envelope: Envelope, stop: asyncio.Event) -> None:
        correlation_id.set(envelope.correlation_id)
        attempt = outages = 0  # failures of the message's own, and outages (which count for nothing)
        while True:
            try:
                outcome = await self._apply_once(message, envelope)
                CONSUMED.labels(self.name, outcome).inc()
                return
            except Exception as exc:
                if stop.is_set():
                    raise _Abandoned() from exc
                if (found := outage(exc)) is not None:
                    outages += 1
                    delay = retry_delay(outages, self._retry_backoff)
                    note_retry(log, "consumer", found, outages, delay, consumer=self.name, offset=message.offset)
                    await sleep_unless_stopped(stop, delay)
                    continue
                attempt += 1
                if attempt >= self._max_attempts:
                    await self._dead_letter(message, envelope, f"{type(exc).__name__}: {exc}", stop=stop)
                    return
                log.info("consumer.retry", consumer=self.name, attempt=attempt, error=repr(exc))
                await asyncio.sleep(retry_delay(attempt, self._retry_backoff))

    async def _apply_once(self, message, envelope: Envelope) -> str:
        applied = await apply_once(
            self._engine, self.name, envelope, self._handle,
            topic=message.topic, partition=message.partition, offset=message.offset, on_commit=self._on_commit,
            views=self._views, clock=self._clock, guard=self._guard,
        )
        return "applied" if applied else "duplicate"

    async def _dead_letter(self, message, envelope: Envelope | None, reason: str,
                           stop: asyncio.Event | None = None) -> None:
        log.error("consumer.dead_letter", consumer=self.name, topic=message.topic,
                  partition=message.partition, offset=message.offset, reason=reason)
        headers = list(message.headers or ()) + [
            ("dlq_reason", reason.encode()[:4000]),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source_topic", message.topic.encode()),
            ("dlq_source_partition", str(message.partition).encode()),
            ("dlq_source_offset", str(message.offset).encode()),
            ("dlq_failed_at", dt.datetime.now(dt.UTC).isoformat().encode()),
        ]
        while True:  # the dead letter must be acknowledged before we move past the message
            try:
                if self._dlq_producer is None:
                    self._dlq_producer = self._producer_factory()
                    await self._dlq_producer.start()
                await self._dlq_producer.send_and_wait(
                    self.dead_letter_topic, value=message.value, key=message.key, headers=headers
                )
                break
            except Exception as exc:
                log.warning("consumer.dead_letter_retry", consumer=self.name, error=repr(exc))
                producer, self._dlq_producer = self._dlq_producer, None
                if producer is not None:
                    try:
                        await producer.stop()
                    except Exception:
                        pass
                await asyncio.sleep(1.0)
        CONSUMED.labels(self.name, "dead_lettered").inc()
        attempt = 0
        while envelope is not None:  # the inbox says so, or the message is not done with
            attempt += 1
            try:
                async with UnitOfWork(self._engine) as uow:
                    await record_in_inbox(uow, self.name, envelope, message.topic, message.partition, message.offset, "dead_lettered")
                    await uow.commit()
                return
            except Exception as exc:
                if (found := outage(exc)) is None:
                    raise
                if stop is not None and stop.is_set():
                    raise _Abandoned() from exc
                delay = retry_delay(attempt, self._retry_backoff)
                note_retry(log, "consumer", found, attempt, delay, consumer=self.name, offset=message.offset)
                await sleep_unless_stopped(stop or asyncio.Event(), delay)


class _CommitOnRevoke(ConsumerRebalanceListener):
    """Before partitions move to another member, finish the batch and commit what was done."""

    def __init__(self, owner: EventConsumer):
        self._owner = owner

    async def on_partitions_revoked(self, revoked):
        async with self._owner._batch_lock:
            await self._owner._commit_offsets()

    async def on_partitions_assigned(self, assigned):
        if assigned:
            self._owner.assigned.set()
