"""The outbox relay: publishes committed events to Kafka, in order, and never loses one.

The `events` table is the outbox (events commit with the command that caused them). A
checkpoint row per relay holds the last position Kafka acknowledged. Each round, in one
transaction: lock the checkpoint row (SKIP LOCKED, so a second replica simply waits its turn),
read the next events in position order, send them with an idempotent producer keyed by
aggregate id, await the acknowledgements, and move the checkpoint over the acknowledged
prefix. An outage (`outages.py`) fails the round; it is retried with capped backoff, with a fresh
producer when it was the broker's (or when a send failed), logging one warning line per retry. Before a
fresh producer sends, the relay reads back what is already on its topics (`_already_on_kafka`), so
a send whose outcome was unknown is not made twice. Events Kafka acknowledged
in a round whose checkpoint could not be written (the database went away after the sends) are
remembered, and the next rounds move the checkpoint over them without sending them again: across
a database restart each event reaches Kafka once, and, by the read-back, across a broker outage, a
restart of the relay or a switch of replicas too. Consumers still drop duplicates by event id: a
relay built without a `reader_factory` skips the read-back (at least once, as before), and the
read-back trusts the clocks of the relay's hosts and of the database to within READ_BACK_MARGIN.
"""

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Callable, NamedTuple

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone.logging import get_logger
from shared.backbone.metrics import OUTBOX_BACKLOG, OUTBOX_FAILURES, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED
from shared.backbone.outages import DATABASE, note_retry, outage, retry_delay, sleep_unless_stopped
from shared.backbone.tables import events, outbox_checkpoint as checkpoints
from shared.events import event_class
from shared.events.envelope import stored_to_kafka

log = get_logger(__name__)

# How far before the earliest instant an event beyond the checkpoint can have been sent the
# read-back starts: room for the clocks of the database and of the relays' hosts to disagree.
READ_BACK_MARGIN = dt.timedelta(seconds=60)
READ_BACK_TIMEOUT = 30.0  # seconds; a read-back taking longer fails the round, as an outage


# The next events after the checkpoint, the payload as the text PostgreSQL stores (the relay sends
# it as it is: no jsonb decoding into dicts, no model round trip).
_READ_OUTGOING = sa.text(
    "SELECT position, event_id, event_type, schema_version, version, correlation_id, causation_id, recorded_at,"
    " CAST(payload AS text) AS payload FROM events WHERE position > :after ORDER BY position LIMIT :limit"
)


class Outgoing(NamedTuple):
    """An event as the relay reads it from the outbox (a tuple: made from the row at C speed)."""

    position: int
    event_id: object
    event_type: str
    schema_version: int
    version: int
    correlation_id: str
    causation_id: str
    recorded_at: dt.datetime
    payload: str

    @property
    def topic(self) -> str:
        return event_class(self.event_type, self.schema_version).topic

    def message(self) -> tuple[str, list[tuple[str, bytes]], bytes, str]:
        return stored_to_kafka(self.event_type, self.schema_version, self.payload, self.version, self.event_id,
                               self.recorded_at, self.correlation_id, self.causation_id)


async def _read_outgoing(conn, after_position: int, limit: int) -> list[Outgoing]:
    """Events in global order after a position; never skips one (see event_store.py)."""
    rows = await conn.execute(_READ_OUTGOING, {"after": after_position, "limit": limit})
    return list(map(Outgoing._make, rows))


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest_age_seconds: float


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        producer_factory: Callable[[], AIOKafkaProducer],
        *,
        service: str,
        relay: str = "kafka",
        batch_size: int = 2000,
        idle_interval: float = 1.0,
        max_backoff: float = 5.0,
        reader_factory: Callable[[], AIOKafkaConsumer] | None = None,
    ):
        self._engine = engine
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._reader_factory = reader_factory  # a consumer without a group, to read back (see publish_batch)
        self._service = service
        self._relay = relay
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._max_backoff = max_backoff
        self._wakeup = asyncio.Event()
        # Acknowledged but beyond the checkpoint (an earlier one in the batch failed, or the
        # checkpoint could not be written): event id -> position, skipped on retry.
        self._acked_ahead: dict = {}

    def wake(self) -> None:
        """Called after a commit that appended events, so they go out without waiting for a poll."""
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                published = await self.publish_batch()
                failures = 0
            except Exception as exc:
                OUTBOX_FAILURES.labels(self._service).inc()
                failures += 1
                delay = retry_delay(failures, 0.1, self._max_backoff)
                if (found := outage(exc)) is not None:
                    note_retry(log, "outbox", found, failures, delay, service=self._service)
                else:
                    log.error("outbox.publish_failed", error=repr(exc), attempt=failures, retry_in=delay)
                if found is None or found.dependency != DATABASE:
                    await self._reset_producer()
                await sleep_unless_stopped(stop, delay)
                continue
            if published < self._batch_size:
                self._wakeup.clear()
                await _wait_any(stop, self._wakeup, self._idle_interval)

    async def publish_batch(self) -> int:
        """One round; returns how many events Kafka acknowledged."""
        async with self._engine.connect() as conn:
            await conn.begin()
            locked = await self._lock_checkpoint(conn)
            if locked is None:
                return 0
            checkpoint, moved_at = locked
            self._acked_ahead = {e: p for e, p in self._acked_ahead.items() if p > checkpoint}
            batch = await _read_outgoing(conn, checkpoint, self._batch_size)
            if not batch:
                return 0
            if self._producer is None and self._reader_factory is not None:
                since = max(moved_at, min(r.recorded_at for r in batch)) - READ_BACK_MARGIN
                arrived = await self._already_on_kafka(batch, since)
                self._acked_ahead.update({r.event_id: r.position for r in batch if r.event_id in arrived})
            producer = await self._ensure_producer()
            to_send = [r for r in batch if r.event_id not in self._acked_ahead]
            messages = [r.message() for r in to_send]  # a row that is not a valid event fails the round here
            futures = []
            try:
                partitions: dict = {}
                for topic, headers, value, key in messages:
                    key = key.encode()
                    # The producer's own partitioner (what send() calls without a partition),
                    # once per key and round: murmur2 in Python was a tenth of the relay's CPU.
                    if (partition := partitions.get((topic, key))) is None:
                        await producer.client._wait_on_metadata(topic)
                        partition = partitions[topic, key] = producer._partition(topic, None, key, value, key, value)
                    futures.append(await producer.send(topic, value=value, key=key, headers=headers,
                                                       partition=partition))
                results = await asyncio.gather(*futures, return_exceptions=True)
            except BaseException:
                await self._reset_producer()  # sends of unknown outcome: the next producer reads back first
                raise
            failed = {r.event_id: res for r, res in zip(to_send, results) if isinstance(res, BaseException)}
            if failed:
                # A failed send may be on Kafka all the same (stored, its acknowledgement lost, or
                # expired by aiokafka while it was being retried) and its sequence numbers are spent:
                # this producer is not used again, and the next one reads back before it sends.
                await self._reset_producer()
            acked_prefix = checkpoint
            for recorded in batch:
                if recorded.event_id in failed:
                    break
                acked_prefix = recorded.position
            acked = {r.event_id: r.position for r in batch if r.event_id not in failed}
            try:
                if acked_prefix != checkpoint:
                    await conn.execute(
                        checkpoints.update()
                        .where(checkpoints.c.relay == self._relay)
                        .values(position=acked_prefix, updated_at=sa.func.now())
                    )
                await conn.commit()
            except BaseException:
                self._acked_ahead.update(acked)  # Kafka has them: the next round only moves the checkpoint
                raise
            self._acked_ahead = {e: p for e, p in {**self._acked_ahead, **acked}.items() if p > acked_prefix}
            published = sum(1 for r in batch if r.position <= acked_prefix)
            OUTBOX_PUBLISHED.labels(self._service).inc(published)
            if failed:
                raise next(iter(failed.values()))
            return published

    async def backlog(self) -> Backlog:
        async with self._engine.connect() as conn:
            position = (
                await conn.execute(sa.select(checkpoints.c.position).where(checkpoints.c.relay == self._relay))
            ).scalar_one_or_none() or 0
            row = (
                await conn.execute(
                    sa.select(sa.func.count(), sa.func.min(events.c.recorded_at)).where(events.c.position > position)
                )
            ).one()
        oldest = (dt.datetime.now(dt.UTC) - row[1]).total_seconds() if row[1] else 0.0
        OUTBOX_BACKLOG.labels(self._service).set(row[0])
        OUTBOX_OLDEST_AGE.labels(self._service).set(oldest)
        return Backlog(count=row[0], oldest_age_seconds=oldest)

    async def flush(self, timeout: float) -> Backlog | None:
        """Publishes what is pending, for a graceful shutdown; gives up quietly after `timeout`.
        The backlog left, or None when the database cannot tell."""
        try:
            async with asyncio.timeout(timeout):
                while await self.publish_batch() >= self._batch_size:
                    pass
        except Exception as exc:
            log.warning("outbox.flush_incomplete", error=repr(exc))
        try:
            return await self.backlog()
        except Exception as exc:
            log.warning("outbox.backlog_unknown", error=repr(exc))
            return None

    async def close(self) -> None:
        await self._reset_producer()

    async def _lock_checkpoint(self, conn) -> tuple[int, dt.datetime] | None:
        """The checkpoint and when it last moved, locked for this round; None while another
        replica holds it."""
        query = (
            sa.select(checkpoints.c.position, checkpoints.c.updated_at)
            .where(checkpoints.c.relay == self._relay)
            .with_for_update(skip_locked=True)
        )
        row = (await conn.execute(query)).one_or_none()
        return None if row is None else (row.position, row.updated_at)

    async def _already_on_kafka(self, batch: list, since: dt.datetime) -> set:
        """The ids of the events of `batch` already on Kafka: read back, by their `ce_id` header,
        from every partition of their topics, from the first message at or after `since`.

        Why: the broker cannot recognise a resend by another producer. aiokafka's idempotent
        producer retries a batch with the same producer id and sequence numbers, so the broker
        drops a copy it stored already; but it gives a batch up once its partition has no leader
        and its time (request_timeout_ms) is over, even one it had sent and the broker had stored
        while the acknowledgement was lost (a broker stopping does exactly that: it stores, closes
        the connection, reports the partition leaderless). Such a batch's future fails; the relay
        cannot reuse that producer (its sequence numbers are spent) and the next one has a new
        producer id, so its resend was a second copy (1 in 5 runs of the 30 s broker outage under
        load). A relay restarted, or another replica taking over, resends with a new producer too.
        So every new producer's first round reads back before it sends. `since` bounds where:
        an event beyond the checkpoint was sent after it was recorded and after the checkpoint's
        last move (`updated_at`, the start of the transaction that moved it: every round that sent
        and did not move it over an event began later), less READ_BACK_MARGIN for the clocks; the
        relay's messages carry the producer's send time (CreateTime), so the broker's time index
        finds the first offset that recent. Transactions (a stable transactional.id fencing the
        old producer) would do it without reading, at the price of read_committed consumers, a
        TransactionalId ACL per service and aiokafka's transactional producer on every send."""
        wanted = {str(r.event_id) for r in batch}
        topics = sorted({r.topic for r in batch})
        since_ms = int(since.timestamp() * 1000)
        reader = self._reader_factory()
        found: set = set()
        try:
            async with asyncio.timeout(READ_BACK_TIMEOUT):
                await reader.start()
                cluster = await reader._client.fetch_all_metadata()  # as reader.topics() does, keeping the partitions
                tps = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]
                reader.assign(tps)
                ends = await reader.end_offsets(tps)
                starts = await reader.offsets_for_times({tp: since_ms for tp in tps})
                pending = {}
                for tp in tps:
                    start = starts[tp].offset if starts[tp] is not None else ends[tp]
                    if start < ends[tp]:
                        reader.seek(tp, start)
                        pending[tp] = ends[tp]
                while pending:
                    for tp, messages in (await reader.getmany(*pending, timeout_ms=500)).items():
                        for m in messages:
                            if m.offset < pending.get(tp, 0):
                                event_id = dict(m.headers or ()).get("ce_id", b"").decode(errors="replace")
                                if event_id in wanted:
                                    found.add(event_id)
                    for tp in list(pending):
                        if await reader.position(tp) >= pending[tp]:
                            del pending[tp]
        except TimeoutError as exc:
            raise KafkaTimeoutError(f"outbox read-back took over {READ_BACK_TIMEOUT}s") from exc
        finally:
            try:
                await asyncio.wait_for(reader.stop(), 5)
            except Exception:
                pass
        if found:
            log.warning("outbox.already_on_kafka", service=self._service, skipped=len(found))
        return {r.event_id for r in batch if str(r.event_id) in found}

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()  # a producer that failed to start still holds its client
                raise
            self._producer = producer
        return self._producer

    async def _reset_producer(self) -> None:
        # An idempotent producer can be left with a broken sequence after an outage: start afresh.
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), 5)
            except Exception:
                pass


async def _wait_any(stop: asyncio.Event, wakeup: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wakeup.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
