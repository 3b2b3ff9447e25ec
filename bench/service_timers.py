"""How fast does the scheduler fire service contract timers that fall due at the same instant?

`python -m bench.service_timers [--contracts 100000 --items 7 --batch 2000 --replicas 1]`

Needs only PostgreSQL: DATABASE_URL (a superuser DSN), else the dev stack's (`make run`). In a
throwaway schema of the `postgres` database it applies the scheduler's migrations, bulk-inserts
contracts x items unfired timers all due at one instant, then sweeps with
`fire_due_service_timers` (the function the scheduler's loop calls) from --replicas concurrent
sweepers until nothing is due, and prints contracts/s and timers/s. It checks that every timer
fired once and every contract got its events, then drops the schema.
"""

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalogue import by_name
from services.lifecycle_scheduler.application.timetables import SweepMark, fire_due_service_timers
from shared.backbone.app import ServiceContext
from shared.backbone.clock import AdjustableClock
from shared.backbone.migrations import upgrade_to_head
from shared.backbone.outbox import OutboxRelay

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "services" / "lifecycle_scheduler" / "adapters" / "migrations"
ADMIN_DSN = "postgresql://postgres:postgres@127.0.0.1:25432/postgres"
DUE = dt.datetime(2031, 7, 1, tzinfo=dt.UTC)


def admin_dsn() -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", ADMIN_DSN).replace("postgresql+asyncpg://", "postgresql://"))
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


async def insert_due_timers(engine, contracts: int, items: int) -> None:
    """Each contract: the contract itself, then lines and entitlements, every one expiring at DUE.
    A contract's timers are inserted together, as the consumer does."""
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO service_contract_zones SELECT md5('c' || g)::uuid, 'Europe/Berlin' FROM generate_series(1, :n) g"
        ), {"n": contracts})
        await conn.execute(sa.text(
            """
            INSERT INTO service_timers (contract_id, item_id, transition, item_kind, due_on, due_at)
            SELECT md5('c' || ((g - 1) / :items + 1))::uuid, md5('i' || g)::uuid, 'expiry',
                   CASE WHEN g % :items = 1 THEN 'contract' WHEN g % 2 = 0 THEN 'line' ELSE 'entitlement' END,
                   CAST(:due AS timestamptz)::date, CAST(:due AS timestamptz)
            FROM generate_series(1, :n) g
            """
        ), {"items": items, "n": contracts * items, "due": DUE})
        await conn.execute(sa.text("ANALYZE service_timers"))


async def run(contracts: int, items: int, batch: int, replicas: int) -> None:
    dsn = admin_dsn()
    schema = f"bench_timers_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"),
                                 pool_size=replicas + 2, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        started = time.perf_counter()
        await insert_due_timers(engine, contracts, items)
        print(f"inserted {contracts:,} contracts x {items} timers in {time.perf_counter() - started:.1f}s", flush=True)

        clock = AdjustableClock()
        clock.set(DUE)
        ctx = ServiceContext(by_name("lifecycle_scheduler"), None, engine, OutboxRelay(engine, lambda: None, service="bench"), clock)

        async def sweeper() -> int:
            fired, mark = 0, SweepMark()
            while n := await fire_due_service_timers(ctx, batch, mark):
                fired += n
            return fired

        started = time.perf_counter()
        async with asyncio.TaskGroup() as sweepers:
            tasks = [sweepers.create_task(sweeper()) for _ in range(replicas)]
        fired = sum(t.result() for t in tasks)
        elapsed = time.perf_counter() - started

        async with engine.connect() as conn:
            events, streams = (await conn.execute(sa.text(
                "SELECT count(*), count(DISTINCT stream_id) FROM events WHERE event_type = 'ServiceContractDateReached'"
            ))).one()
            unfired = (await conn.execute(sa.text("SELECT count(*) FROM service_timers WHERE fired_at IS NULL"))).scalar_one()
            reported = (await conn.execute(sa.text(
                "SELECT coalesce(sum(jsonb_array_length(payload->'due')), 0) FROM events"
            ))).scalar_one()
        ok = fired == reported == contracts * items and unfired == 0 and streams == contracts
        print(f"fired {fired:,} timers of {contracts:,} contracts in {elapsed:.2f}s "
              f"(batch {batch}, {replicas} sweeper{'s' if replicas > 1 else ''}): "
              f"{contracts / elapsed:,.0f} contracts/s, {fired / elapsed:,.0f} timers/s; "
              f"{events:,} events; {'every timer fired once' if ok else 'MISMATCH'}", flush=True)
        if not ok:
            raise SystemExit(f"fired {fired}, reported {reported}, unfired {unfired}, streams {streams}")
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=7, help="timers per contract (the contract, lines, entitlements)")
    parser.add_argument("--batch", type=int, default=2000, help="timers claimed per transaction")
    parser.add_argument("--replicas", type=int, default=1, help="concurrent sweepers, as scheduler replicas would be")
    args = parser.parse_args()
    asyncio.run(run(args.contracts, args.items, args.batch, args.replicas))


if __name__ == "__main__":
    main()
