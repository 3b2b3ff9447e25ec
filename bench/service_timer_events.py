"""How fast does the scheduler's consumer keep service contract timers in step with order sync?

`python -m bench.service_timer_events [--contracts 5000 --lines 3 --entitlements 2 --batch 200,1000]`

The consumer side of bench.service_timers (which times the sweep). Needs only PostgreSQL:
DATABASE_URL (a superuser DSN), else the dev stack's (`make run`). For each batch size, in a
throwaway schema of the `postgres` database with the scheduler's migrations, it applies order
sync's events of `--contracts` contracts the way the consumer applies a fetch of one partition
(`apply_batch`: inbox rows, the scheduler's handlers, one COMMIT per batch of `--batch` messages),
in three waves: the drafts (one ServiceContractDrafted with its lines and entitlements each),
the activations and the expiries (one event per contract, line and entitlement each, in contract
order, as order sync publishes them). No Kafka. It prints events/s per wave, checks the timers
left (all written by the drafts; the activation timers gone after the activations; none
after the expiries), and drops the schema.
"""

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.service_timers import admin_dsn
from services.lifecycle_scheduler.main import definition
from shared.backbone.inbox import apply_batch
from shared.backbone.event_routing import dispatcher
from shared.backbone.migrations import upgrade_to_head
from shared.events import topics
from shared.events.envelope import Envelope
from shared.events.orders import (
    ContractLineActivated, ContractLineExpired, ContractLineTerms, EntitlementActivated, EntitlementExpired,
    EntitlementTerms, ServiceContractActivated, ServiceContractDrafted, ServiceContractExpired, ServiceState,
)

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "services" / "lifecycle_scheduler" / "adapters" / "migrations"
START, END = dt.date(2031, 1, 1), dt.date(2031, 12, 31)


def waves(contracts: int, lines: int, entitlements: int) -> list[tuple[str, list]]:
    drafts, activations, expiries = [], [], []
    for _ in range(contracts):
        c = uuid.uuid4()
        ls = [ContractLineTerms(line_id=uuid.uuid4(), product="Premium support", quantity=1, unit_price=100,
                                start_date=START, end_date=END, state=ServiceState.DRAFT) for _ in range(lines)]
        es = [EntitlementTerms(entitlement_id=uuid.uuid4(), line_id=ls[i % lines].line_id if ls else None,
                               name="onsite-repair", start_date=START, end_date=END, state=ServiceState.DRAFT)
              for i in range(entitlements)]
        drafts.append(ServiceContractDrafted(contract_id=c, number="SC-B", account="ACME Robotics", start_date=START,
                                             end_date=END, time_zone="Europe/Berlin", lines=ls, entitlements=es))
        activations.append(ServiceContractActivated(contract_id=c, effective_on=START))
        expiries.append(ServiceContractExpired(contract_id=c, effective_on=END))
        for line in ls:
            activations.append(ContractLineActivated(contract_id=c, line_id=line.line_id, effective_on=START))
            expiries.append(ContractLineExpired(contract_id=c, line_id=line.line_id, effective_on=END))
        for e in es:
            activations.append(EntitlementActivated(contract_id=c, entitlement_id=e.entitlement_id, effective_on=START))
            expiries.append(EntitlementExpired(contract_id=c, entitlement_id=e.entitlement_id, effective_on=END))
    return [("drafts", drafts), ("activations", activations), ("expiries", expiries)]


async def count_timers(engine) -> tuple[int, int]:
    async with engine.connect() as conn:
        return tuple((await conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE fired_at IS NULL), count(*) FILTER (WHERE transition = 'activation') "
            "FROM service_timers"))).one())


async def run_one(dsn: str, batch: int, contracts: int, lines: int, entitlements: int) -> None:
    schema = f"bench_timer_events_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"),
                                 connect_args={"server_settings": {"search_path": schema}})
    [subscription] = [s for s in definition.subscriptions if ServiceContractDrafted in s.handlers]
    handle = dispatcher(subscription.handlers)
    items = 1 + lines + entitlements
    expected = {"drafts": (contracts * items * 2, contracts * items), "activations": (contracts * items, 0),
                "expiries": (0, 0)}
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        offset = 0
        for wave, events in waves(contracts, lines, entitlements):
            envelopes = [Envelope(event, stream_version=1) for event in events]
            started = time.perf_counter()
            for i in range(0, len(envelopes), batch):
                messages = [(e, topics.ORDER_SYNC_SERVICE_CONTRACTS, 0, offset + j)
                            for j, e in enumerate(envelopes[i:i + batch])]
                offset += len(messages)
                await apply_batch(engine, "bench", messages, handle)
            elapsed = time.perf_counter() - started
            left = await count_timers(engine)
            check = "ok" if left == expected[wave] else f"MISMATCH: unfired, activation timers {left} != {expected[wave]}"
            print(f"batch {batch:>5}  {wave:<11} {len(events):>7,} events in {elapsed:6.2f}s: "
                  f"{len(events) / elapsed:>8,.0f} events/s  ({check})", flush=True)
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


async def run(batches: list[int], contracts: int, lines: int, entitlements: int) -> None:
    dsn = admin_dsn()
    for batch in batches:
        await run_one(dsn, batch, contracts, lines, entitlements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--entitlements", type=int, default=2)
    parser.add_argument("--batch", default="200,1000", help="messages per batch (a fetch of one partition), comma-separated")
    args = parser.parse_args()
    asyncio.run(run([int(b) for b in args.batch.split(",")], args.contracts, args.lines, args.entitlements))


if __name__ == "__main__":
    main()
