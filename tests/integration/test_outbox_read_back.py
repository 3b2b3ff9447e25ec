"""The outbox relay on real PostgreSQL and Kafka when a send's outcome is unknown: the broker
stored it but the relay heard a failure (what aiokafka reports for a batch it gave up while the
broker was stopping, the 1-in-5 duplicates of the faults suite's 30 s broker outage). The relay
drops that producer; the next one, a new producer id the broker's idempotence cannot match, reads
back what is on the topic before it sends, so nothing reaches Kafka twice: in the same relay, and
in a relay started afresh (a restart, or another replica taking over)."""

import asyncio
import uuid

import pytest
from aiokafka.errors import LeaderNotAvailableError

from shared.backbone import kafka as kafka_clients
from shared.backbone.kafka import idempotent_producer
from shared.backbone.outbox import OutboxRelay
from tests.events_factory import Note
from tests.integration.test_outbox_relay import _append, _assert_once_and_in_order, _read_topic

pytestmark = pytest.mark.integration


class _AcknowledgementsLost:
    """A real idempotent producer whose sends numbered in `lose` (0, 1, ... over its life) reach
    the broker, are stored, and are then reported failed, as a batch expired in retries is."""

    def __init__(self, producer, lose: set[int]):
        self._producer, self._lose, self._n = producer, lose, 0
        self.lost = 0

    async def start(self):
        await self._producer.start()

    async def stop(self):
        await self._producer.stop()

    def __getattr__(self, name):  # the rest (metadata, partitioner) is the real producer's
        return getattr(self._producer, name)

    async def send(self, topic, **kwargs):
        delivery = await self._producer.send(topic, **kwargs)
        n, self._n = self._n, self._n + 1
        return asyncio.ensure_future(self._lost(delivery)) if n in self._lose else delivery

    async def _lost(self, delivery):
        await delivery  # on the broker
        self.lost += 1
        raise LeaderNotAvailableError()


def _factory(stack, lose: set[int]):
    """The first producer loses the acknowledgements of the sends in `lose`; the later ones are plain."""
    made = []

    def make():
        producer = idempotent_producer(stack.kafka_admin, "test-relay")
        made.append(_AcknowledgementsLost(producer, lose) if not made else producer)
        return made[-1]

    return make, made


def _reader(stack):
    return lambda: kafka_clients.consumer(stack.kafka_admin, group_id=None, enable_auto_commit=False)


async def _notes(engine, relay, count: int, rounds: int) -> dict[str, Note]:
    notes = {n.id: n for n in (Note(str(uuid.uuid4())) for _ in range(count))}
    await _append(engine, relay, notes, rounds=rounds)
    return notes


async def test_a_send_stored_but_reported_failed_is_not_sent_again_by_the_next_producer(scratch_engine, stack):
    make, made = _factory(stack, lose={0, 3, 4, 9})
    relay = OutboxRelay(scratch_engine, make, service="test", reader_factory=_reader(stack))
    notes = await _notes(scratch_engine, relay, count=4, rounds=3)  # 12 events

    with pytest.raises(LeaderNotAvailableError):
        await relay.publish_batch()  # all 12 on Kafka; 4 reported failed, the checkpoint stays
    assert made[0].lost == 4 and (await relay.backlog()).count == 12
    assert await relay.publish_batch() == 12  # a new producer: reads back, sends nothing
    assert len(made) == 2 and (await relay.backlog()).count == 0
    await relay.close()

    found = await _read_topic(stack.kafka_admin, set(notes), expected=12)
    _assert_once_and_in_order(found, 3, set(notes))


async def test_a_relay_started_afresh_does_not_resend_what_its_predecessor_sent_without_hearing_back(
        scratch_engine, stack):
    make, made = _factory(stack, lose={1, 2})
    first = OutboxRelay(scratch_engine, make, service="test", reader_factory=_reader(stack))
    notes = await _notes(scratch_engine, first, count=3, rounds=2)  # 6 events
    with pytest.raises(LeaderNotAvailableError):
        await first.publish_batch()
    await first.close()  # what it knew (4 acknowledged beyond the checkpoint) is gone with it
    assert (await first.backlog()).count == 5

    second = OutboxRelay(scratch_engine, lambda: idempotent_producer(stack.kafka_admin, "test-relay"),
                         service="test", reader_factory=_reader(stack))
    assert await second.publish_batch() == 5
    await _append(scratch_engine, second, notes, rounds=1)  # and what comes next is sent as usual
    assert await second.publish_batch() == 3
    await second.close()

    found = await _read_topic(stack.kafka_admin, set(notes), expected=9)
    _assert_once_and_in_order(found, 3, set(notes))


async def test_without_a_reader_the_relay_resends_them_at_least_once(scratch_engine, stack):
    """What the relay did before it read back (and still does without a reader_factory): the
    new producer sends the events heard failed again, and they are on Kafka twice."""
    make, made = _factory(stack, lose={0, 2})
    relay = OutboxRelay(scratch_engine, make, service="test")
    notes = await _notes(scratch_engine, relay, count=2, rounds=2)  # 4 events
    with pytest.raises(LeaderNotAvailableError):
        await relay.publish_batch()
    assert await relay.publish_batch() == 4
    await relay.close()

    found = await _read_topic(stack.kafka_admin, set(notes), expected=6)
    ids = [e.event_id for _, _, e in found]
    assert len(ids) == 6 and len(set(ids)) == 4
