"""Throughput of the shared mechanics alone: event-store appends, the consumer, the outbox relay.

`python -m bench.backbone [--aggregates 10000] [--messages 20000] [--relay-events 100000]`

Runs against DATABASE_URL (a superuser DSN) and KAFKA_BOOTSTRAP_SERVERS when both are set,
otherwise starts the test stack (tests/stack.py, TEST_PG_PORT / TEST_KAFKA_PORT) and stops it at
the end. Each part works in a fresh schema that is dropped afterwards; the relay part publishes to
the real topic of its events (clm.contracts.v1) on that broker.

1. appends: N aggregates x 7 events through UnitOfWork, one unit of work per aggregate (a
   command) and one per 100 aggregates (a consumed batch). `concurrent` (not in the default
   parts): one unit of work per aggregate from 1, 4 and 16 tasks at once, each commit alone and
   grouped (shared/backbone/group_commit.py), in commands/s.
2. consumer: M messages on a 3-partition topic, a handler that appends one event per message;
   timed from partition assignment to the last inbox row.
3. relay: K events already in the table, published until the backlog is empty.
"""

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid

import asyncpg
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalogue import DATABASE_NAME
from shared.backbone import tables
from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.consumer import EventConsumer
from shared.backbone.kafka import KafkaAccess, ensure_topics, idempotent_producer
from shared.backbone.migrations import APPEND_EVENTS_V1
from shared.backbone.outbox import OutboxRelay
from shared.backbone.settings import ServiceSettings
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractDrafted, Party
from shared.events.envelope import Envelope, to_kafka


def drafted(contract_id: uuid.UUID, title: str) -> ContractDrafted:
    return ContractDrafted(
        contract_id=contract_id, number="CNT-B", title=title, contract_model="service_contract",
        parties=[Party(role="customer", name="ACME Robotics")], start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31), time_zone="UTC",
    )


class Item(Aggregate):
    stream_type = "bench"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.titles: list[str] = []

    def retitle(self, title: str) -> None:
        self.record(drafted(uuid.UUID(self.id), title))

    @applies
    def _on_drafted(self, event: ContractDrafted) -> None:
        self.titles.append(event.title)


class Scratch:
    """A fresh schema with the backbone tables (and the append function), and an engine whose search_path is that schema."""

    def __init__(self, admin_url: str):
        self.db_url = admin_url.rsplit("/", 1)[0] + f"/{DATABASE_NAME}"
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"

    async def __aenter__(self):
        self.admin = await asyncpg.connect(self.db_url)
        await self.admin.execute(f"CREATE SCHEMA {self.schema}")
        self.engine = create_async_engine(
            self.db_url.replace("postgresql://", "postgresql+asyncpg://"), pool_size=10,
            connect_args={"server_settings": {"search_path": self.schema}},
        )
        async with self.engine.begin() as conn:
            await conn.run_sync(tables.metadata.create_all)
            await conn.execute(sa.text(APPEND_EVENTS_V1))
            await conn.execute(sa.text("INSERT INTO outbox_checkpoint (relay, position) VALUES ('kafka', 0)"))
        return self

    async def __aexit__(self, *exc):
        await self.engine.dispose()
        await self.admin.execute(f"DROP SCHEMA {self.schema} CASCADE")
        await self.admin.close()

    async def count(self, table: str) -> int:
        return await self.admin.fetchval(f"SELECT count(*) FROM {self.schema}.{table}")


async def bench_appends(admin_url: str, aggregates: int, per_uow: int) -> float:
    async with Scratch(admin_url) as s:
        started = time.perf_counter()
        for first in range(0, aggregates, per_uow):
            async with UnitOfWork(s.engine) as uow:
                for _ in range(min(per_uow, aggregates - first)):
                    item = Item(str(uuid.uuid4()))
                    for i in range(7):
                        item.retitle(f"t{i}")
                    uow.add(item)
                await uow.commit()
        elapsed = time.perf_counter() - started
        assert await s.count("events") == aggregates * 7
    return aggregates * 7 / elapsed


async def bench_concurrent_appends(admin_url: str, aggregates: int, concurrency: int, grouped: bool) -> float:
    """Commands at once: `concurrency` tasks, each one unit of work per aggregate (7 events), as
    concurrent HTTP commands of a service do; `grouped` lets their appends share a COMMIT."""
    async with Scratch(admin_url) as s:
        remaining = iter(range(aggregates))

        async def commands() -> None:
            for _ in remaining:
                async with UnitOfWork(s.engine) as uow:
                    item = Item(str(uuid.uuid4()))
                    for i in range(7):
                        item.retitle(f"t{i}")
                    uow.add(item)
                    await uow.commit(grouped=grouped)

        started = time.perf_counter()
        await asyncio.gather(*(commands() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        assert await s.count("events") == aggregates * 7
    return aggregates / elapsed


async def _append_one(uow: UnitOfWork, envelope: Envelope) -> None:
    item = Item(str(uuid.uuid4()))
    item.retitle(envelope.event.title)
    uow.add(item)


async def bench_consumer(admin_url: str, bootstrap: KafkaAccess, messages: int) -> float:
    topic = f"bench.consumer.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic])
    producer = AIOKafkaProducer(**bootstrap.options(), enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for i in range(messages):
            _, headers, value, key = to_kafka(Envelope(drafted(uuid.uuid4(), f"m{i}"), 1))
            futures.append(await producer.send(topic, value=value, key=key.encode(), headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    async with Scratch(admin_url) as s:
        consumer = EventConsumer(
            s.engine, name=f"bench-{uuid.uuid4().hex[:6]}", topics=[topic], handle=_append_one,
            kafka=bootstrap, producer_factory=lambda: idempotent_producer(bootstrap, "bench-dlq"),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await consumer.assigned.wait()
        started = time.perf_counter()
        while await s.count("inbox") < messages:
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        assert await s.count("events") == messages
    return messages / elapsed


async def bench_relay(admin_url: str, bootstrap: KafkaAccess, events: int) -> float:
    await ensure_topics(bootstrap, [ContractDrafted.topic])
    payload = drafted(uuid.uuid4(), "relayed").model_dump_json()
    async with Scratch(admin_url) as s:
        await s.admin.execute(
            f"""INSERT INTO {s.schema}.events (position, stream_id, stream_type, version, event_id, event_type,
                                               schema_version, payload, correlation_id)
                SELECT nextval('{s.schema}.events_position_seq'), a.id::text, 'bench', v, gen_random_uuid(),
                       'ContractDrafted', 1, jsonb_set($1::jsonb, '{{contract_id}}', to_jsonb(a.id::text)), 'bench'
                FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $2 / 7)) a, generate_series(1, 7) v
                ORDER BY a.id, v""",
            payload, events,
        )
        seeded = await s.count("events")
        relay = OutboxRelay(s.engine, lambda: idempotent_producer(bootstrap, "bench-relay"), service="bench")
        try:
            await relay.publish_batch()  # producer start and metadata, not timed
            started = time.perf_counter()
            while await relay.publish_batch():
                pass
            elapsed = time.perf_counter() - started
            assert (await relay.backlog()).count == 0
        finally:
            await relay.close()
    return (seeded - relay._batch_size) / elapsed


async def main(args) -> None:
    if os.environ.get("DATABASE_URL") and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        admin_url, stack = os.environ["DATABASE_URL"], None
        bootstrap = ServiceSettings(database_url=admin_url).kafka()  # KAFKA_* of the environment
    else:
        from services.provision import provision
        from tests.stack import TEST_PASSWORDS, start_stack

        stack = await asyncio.to_thread(start_stack)
        admin_url, bootstrap = stack.admin_url, stack.kafka_admin
        await provision(admin_url, TEST_PASSWORDS)
    try:
        if "appends" in args.parts:
            for per_uow in (1, 100):
                rate = await bench_appends(admin_url, args.aggregates, per_uow)
                print(f"appends, {per_uow:>3} aggregate(s) per unit of work: {rate:8.0f} events/s", flush=True)
        if "concurrent" in args.parts:
            # alone and grouped alternate, `--rounds` pairs per concurrency: the machine's load drifts
            for concurrency in (1, 4, 16):
                for grouped in [False, True] * args.rounds:
                    rate = await bench_concurrent_appends(admin_url, args.aggregates, concurrency, grouped)
                    print(f"appends, {concurrency:>2} commands at once, {'grouped' if grouped else 'alone  '}:"
                          f" {rate:8.0f} commands/s ({rate * 7:.0f} events/s)", flush=True)
        if "consumer" in args.parts:
            rate = await bench_consumer(admin_url, bootstrap, args.messages)
            print(f"consumer, {args.messages} messages, one event each:   {rate:8.0f} messages/s", flush=True)
        if "relay" in args.parts:
            rate = await bench_relay(admin_url, bootstrap, args.relay_events)
            print(f"relay, {args.relay_events} events:                      {rate:8.0f} events/s", flush=True)
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.close)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aggregates", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--relay-events", type=int, default=100_000)
    parser.add_argument("--parts", default="appends,consumer,relay")
    parser.add_argument("--rounds", type=int, default=1, help="concurrent: alone/grouped pairs per concurrency")
    asyncio.run(main(parser.parse_args()))
