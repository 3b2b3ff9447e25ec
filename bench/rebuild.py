"""How fast does a projection rebuild replay the topics? Prints events/s next to raw PostgreSQL rows/s.

`python -m bench.rebuild [--contracts 5000] [--per-event 3000]`. Starts the tests' PostgreSQL and
Kafka (tests/stack.py: TEST_PG_PORT, TEST_KAFKA_PORT, TEST_KAFKA_CONTROLLER_PORT; or DATABASE_URL
and KAFKA_BOOTSTRAP_SERVERS), publishes what the slice's producers publish for `--contracts`
contracts onto the projection's own topics (half service contracts as order sync publishes them:
drafted with 3 lines and 2 entitlements, then expired, 7 events; half CLM contracts drafted and
activated, 2 events), and rebuilds a throwaway schema migrated with the projection's migrations:

1. `rebuild` as it is: each fetch's messages of a partition through `apply_batch`;
2. for comparison, the rebuild as it was (one `apply_once` transaction per event), for the first
   `--per-event` events only (it is slow);
3. the rebuild's mechanics alone: the same with a handler that does nothing;
4. the yardstick: raw asyncpg inserts of as many rows into one table, in transactions of the
   rebuild's batch size (one `unnest` statement each).

The schema is dropped afterwards; the topics keep the events (a fresh test stack each session).
"""

import argparse
import asyncio
import os
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from bench.projection import MIGRATIONS, contract_events
from services.projection.application import rebuild as rebuilding
from services.projection.application.projector import CONSUMER_NAME, project
from shared.backbone import kafka as kafka_clients
from shared.backbone.inbox import apply_once
from shared.backbone.migrations import upgrade_to_head
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope, InvalidEnvelope, from_kafka, to_kafka
from tests.events_factory import drafted


def _events(contracts: int) -> list[Envelope]:
    out = []
    for _ in range(contracts // 2):
        draft, expiry = contract_events(uuid.uuid4())
        out += [draft, *expiry]
        contract = drafted(uuid.uuid4())
        out += [Envelope(contract, 1), Envelope(ContractActivated(**contract.model_dump()), 2)]
    return out


async def _nothing(uow, envelope) -> None:
    pass


async def _publish(kafka, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True, acks="all", linger_ms=20,
                                max_batch_size=512 * 1024)
    await producer.start()
    try:
        sent = []
        for envelope in envelopes:
            topic, headers, value, key = to_kafka(envelope)
            sent.append(await producer.send(topic, value=value, key=key.encode(), headers=headers))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _one_transaction_each(engine, kafka, limit: int) -> tuple[int, float]:
    """The rebuild before batches: one apply_once per event (the replay of the first `limit`)."""
    consumer = kafka_clients.consumer(kafka, enable_auto_commit=False, group_id=f"{CONSUMER_NAME}-rebuild-bench")
    await consumer.start()
    applied = 0
    try:
        partitions = await rebuilding._partitions(kafka, sorted(rebuilding.topics_of(rebuilding.HANDLERS)))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started = time.perf_counter()
        while applied < limit:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            if not batches:
                break
            for tp, messages in batches.items():
                for message in messages:
                    try:
                        envelope = from_kafka(message.headers, message.key, message.value, tp.topic)
                    except InvalidEnvelope:
                        continue
                    applied += await apply_once(engine, CONSUMER_NAME, envelope, project, topic=tp.topic,
                                                partition=tp.partition, offset=message.offset)
        return applied, time.perf_counter() - started
    finally:
        await consumer.stop()


async def _raw_rows_per_second(admin: asyncpg.Connection, schema: str, rows: int, batch: int) -> float:
    await admin.execute(f"CREATE TABLE {schema}.raw (id uuid PRIMARY KEY, topic text, partition int, "
                        f'"offset" bigint, payload text)')
    ids = [uuid.uuid4() for _ in range(rows)]
    statement = await admin.prepare(
        f'INSERT INTO {schema}.raw SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[], $5::text[])')
    started = time.perf_counter()
    for i in range(0, rows, batch):
        chunk = ids[i:i + batch]
        async with admin.transaction():
            await statement.fetch(chunk, ["t"] * len(chunk), [0] * len(chunk), list(range(len(chunk))),
                                  ["x" * 200] * len(chunk))
    return rows / (time.perf_counter() - started)


async def run(stack, contracts: int, per_event: int) -> None:
    dsn = stack.admin_url.replace("postgresql+asyncpg://", "postgresql://")
    schema = f"bench_rebuild_{os.getpid()}"
    envelopes = _events(contracts)
    started = time.perf_counter()
    await _publish(stack.kafka_admin, envelopes)
    print(f"published {len(envelopes):,} events in {time.perf_counter() - started:.1f} s")
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"),
                                 connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        if per_event:
            applied, seconds = await _one_transaction_each(engine, stack.kafka_admin, per_event)
            print(f"one transaction per event (before): {applied:,} events in {seconds:.1f} s: "
                  f"{applied / seconds:,.0f} events/s")
        started = time.perf_counter()
        applied = await rebuilding.rebuild(engine, stack.kafka_admin)
        seconds = time.perf_counter() - started
        print(f"rebuild, batches of <= {rebuilding.MAX_RECORDS} (after): {applied:,} events in {seconds:.1f} s: "
              f"{applied / seconds:,.0f} events/s (clearing the tables included)")
        started = time.perf_counter()
        applied = await rebuilding.rebuild(engine, stack.kafka_admin, handle=_nothing)
        seconds_alone = time.perf_counter() - started
        print(f"the mechanics alone (fetch, decode, inbox rows, commit; a handler doing nothing): "
              f"{applied / seconds_alone:,.0f} events/s")
        raw = await _raw_rows_per_second(admin, schema, applied, rebuilding.MAX_RECORDS)
        print(f"raw PostgreSQL, unnest inserts of {rebuilding.MAX_RECORDS} rows a transaction: {raw:,.0f} rows/s"
              f"  (rebuild / raw = {applied / seconds / raw:.2f})")
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=20_000, help="contracts published (x4.5 events on average)")
    parser.add_argument("--per-event", type=int, default=3000, help="events replayed one transaction each, for comparison")
    args = parser.parse_args()
    from tests.stack import start_stack

    stack = start_stack()
    try:
        asyncio.run(run(stack, args.contracts, args.per_event))
    finally:
        stack.close()


if __name__ == "__main__":
    main()
