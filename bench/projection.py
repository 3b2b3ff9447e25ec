"""How fast does the projector apply service contract expiries? Prints events/s.

`python -m bench.projection [--contracts 8334] [--per-event 6000] [--batches 200,1000]
[--batched-events 60000]`, against DATABASE_URL (a
superuser DSN; default: the dev stack's PostgreSQL). In a throwaway schema of that database it
drafts the contracts (1 contract, 3 lines, 2 entitlements each), then expires them as order sync
publishes it, 6 events a contract (the contract, each line, each entitlement):

1. through the projector inside one UnitOfWork, one commit at the end: the projector's own cost;
2. as the live consumer applies them: one transaction per event with its inbox row (`apply_once`),
   for the first `--per-event` events of other contracts;
3. as the live consumer applies a fetch of one partition: `apply_batch` over batches of each size
   in `--batches` (the inbox rows in one statement, the handlers' runs, one commit a batch), for
   `--batched-events` events of yet other contracts per size.

Kafka is not involved. The schema is dropped afterwards.
"""

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from shared.backbone.inbox import apply_batch, apply_once
from shared.backbone.migrations import upgrade_to_head
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.orders import (
    ContractLineExpired,
    ContractLineTerms,
    EntitlementExpired,
    EntitlementTerms,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceState,
)
from shared.events.envelope import Envelope
from services.projection.application.projector import project

MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "projection" / "adapters" / "migrations"
DEFAULT_DSN = "postgresql://postgres:postgres@127.0.0.1:25432/postgres"
START, END, EXPIRED_ON = dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2027, 1, 1)


def contract_events(contract_id: uuid.UUID) -> tuple[Envelope, list[Envelope]]:
    """The draft of one contract (3 lines, 2 entitlements) and its 6 expiry events."""
    lines = [ContractLineTerms(line_id=uuid.uuid4(), product=f"Service {i}", quantity=1, unit_price=Decimal("100.00"),
                               start_date=START, end_date=END, state=ServiceState.ACTIVE) for i in range(3)]
    granted = [EntitlementTerms(entitlement_id=uuid.uuid4(), line_id=lines[i].line_id, name=f"entitlement-{i}",
                                start_date=START, end_date=END, state=ServiceState.ACTIVE) for i in range(2)]
    drafted = ServiceContractDrafted(contract_id=contract_id, number=f"SC-{contract_id.hex[:8]}", account="Bench",
                                     start_date=START, end_date=END, time_zone="UTC", lines=lines, entitlements=granted)
    expiry = [ServiceContractExpired(contract_id=contract_id, effective_on=EXPIRED_ON)]
    expiry += [ContractLineExpired(contract_id=contract_id, line_id=line.line_id, effective_on=EXPIRED_ON) for line in lines]
    expiry += [EntitlementExpired(contract_id=contract_id, entitlement_id=e.entitlement_id, effective_on=EXPIRED_ON) for e in granted]
    return Envelope(drafted, 1), [Envelope(e, v) for v, e in enumerate(expiry, start=2)]


async def in_one_unit_of_work(engine, envelopes: list[Envelope]) -> float:
    started = time.perf_counter()
    async with UnitOfWork(engine) as uow:
        for envelope in envelopes:
            await project(uow, envelope)
        await uow.commit()
    return time.perf_counter() - started


async def one_transaction_each(engine, envelopes: list[Envelope]) -> float:
    started = time.perf_counter()
    for offset, envelope in enumerate(envelopes):
        await apply_once(engine, "bench", envelope, project, topic="bench", partition=0, offset=offset)
    return time.perf_counter() - started


async def in_batches(engine, envelopes: list[Envelope], size: int) -> float:
    started = time.perf_counter()
    for first in range(0, len(envelopes), size):
        batch = envelopes[first:first + size]
        await apply_batch(engine, "bench", [(e, "bench", 1, first + i) for i, e in enumerate(batch)], project)
    return time.perf_counter() - started


async def run(dsn: str, contracts: int, per_event: int, batches: list[int], batched_events: int) -> None:
    schema = f"bench_projection_{os.getpid()}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"),
                                 connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        per_contract = (per_event + 5) // 6
        per_size = (batched_events + 5) // 6
        drafts, expiries = zip(*(contract_events(uuid.uuid4())
                                 for _ in range(contracts + per_contract + per_size * len(batches))))
        seconds = sum([await in_one_unit_of_work(engine, list(drafts[i:i + 1000])) for i in range(0, len(drafts), 1000)])
        print(f"drafted {len(drafts)} contracts (6 rows each) in {seconds:.1f} s: {len(drafts) / seconds:,.0f} drafts/s")

        batch = [e for per in expiries[:contracts] for e in per]
        seconds = await in_one_unit_of_work(engine, batch)
        print(f"projector, one unit of work:     {len(batch):,} expiry events in {seconds:.1f} s: {len(batch) / seconds:,.0f} events/s")

        each = [e for per in expiries[contracts:contracts + per_contract] for e in per][:per_event]
        seconds = await one_transaction_each(engine, each)
        print(f"consumer path, one tx per event: {len(each):,} expiry events in {seconds:.1f} s: {len(each) / seconds:,.0f} events/s")

        for n, size in enumerate(batches):
            first = contracts + per_contract + n * per_size
            events = [e for per in expiries[first:first + per_size] for e in per][:batched_events]
            seconds = await in_batches(engine, events, size)
            print(f"consumer path, batches of {size:>5,}: {len(events):,} expiry events in {seconds:.1f} s: "
                  f"{len(events) / seconds:,.0f} events/s")

        states = await admin.fetch(
            f"SELECT 'contracts' AS t, state, count(*) FROM {schema}.service_contracts GROUP BY state "
            f"UNION ALL SELECT 'lines', state, count(*) FROM {schema}.contract_lines GROUP BY state "
            f"UNION ALL SELECT 'entitlements', state, count(*) FROM {schema}.entitlements GROUP BY state ORDER BY 1, 2"
        )
        print("rows by state: " + ", ".join(f"{r['t']} {r['state']} {r['count']}" for r in states))
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=8334, help="contracts expired in one unit of work (x6 events)")
    parser.add_argument("--per-event", type=int, default=6000, help="events applied one transaction each")
    parser.add_argument("--batches", default="200,1000", help="batch sizes for apply_batch, comma-separated")
    parser.add_argument("--batched-events", type=int, default=60000, help="events applied in batches, per size")
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL", DEFAULT_DSN).replace("postgresql+asyncpg://", "postgresql://")
    batches = [int(b) for b in args.batches.split(",") if b]
    asyncio.run(run(dsn, args.contracts, args.per_event, batches, args.batched_events))


if __name__ == "__main__":
    main()
