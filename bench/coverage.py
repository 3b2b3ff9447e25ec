"""How fast is a coverage proof with 1,000,000 assets and 200,000 contracts? Prints p50/p99.

`python -m bench.coverage [--assets 1000000] [--contracts 200000] [--queries 2000]`, against
DATABASE_URL (a superuser DSN; default: the dev stack's PostgreSQL). In a throwaway schema migrated
with asset_coverage's migrations it loads the coverage index's tables straight with COPY (no
events: the index is what a proof reads): the assets' copy, one current fact per contract, one
link per asset plus a second for every third asset, and for every tenth link an older row that a
revision ended (so "as known at" has history to skip). Then it times, through the use case and
SQL adapter the API calls (`proofs.coverage_of` on a UnitOfWork with the service's views):
single-asset proofs as known now and as known at an earlier instant, and 50-asset proofs.
The schema is dropped afterwards.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from shared.backbone.migrations import upgrade_to_head
from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.adapters.coverage_index import linked_query
from services.asset_coverage.adapters.views import SqlViews
from services.asset_coverage.application import proofs

MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "asset_coverage" / "adapters" / "migrations"
DEFAULT_DSN = "postgresql://postgres:postgres@127.0.0.1:25432/postgres"
KNOWN_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
REVISED_AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ON = dt.date(2027, 3, 1)
KINDS = ("robot", "cnc_machine", "plc", "server", "software")
CRITICALITY = ("low", "medium", "high", "critical")


def asset_id(i: int) -> str:
    return f"AST-{i:07d}"


def contract_rows(contracts: int, rng: random.Random):
    sla = json.dumps({"response_hours": "4", "resolution_hours": "24", "service_hours": "24x7"})
    for i in range(contracts):
        start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(730))
        end = start + dt.timedelta(days=rng.choice((364, 729, 1094)))
        state = "active" if rng.random() < 0.8 else rng.choice(("draft", "expired", "canceled"))
        canceled_on = start + dt.timedelta(days=30) if state == "canceled" else None
        yield (uuid.UUID(int=i + 1), f"V-{i:06d}", f"Maintenance {i}", "maintenance", "operations", state, start, end,
               canceled_on, sla, None, KNOWN_FROM, None)


def link_rows(assets: int, contracts: int, rng: random.Random):
    for i in range(assets):
        first = rng.randrange(contracts)
        for n in range(1 + (i % 3 == 0)):
            contract_id = uuid.UUID(int=(first + n * (contracts // 2 + 1)) % contracts + 1)
            if rng.random() < 0.1:  # an older row a revision ended
                yield contract_id, asset_id(i), None, dt.date(2025, 6, 30), None, KNOWN_FROM, REVISED_AT
                yield contract_id, asset_id(i), None, None, None, REVISED_AT, None
            else:
                yield contract_id, asset_id(i), None, None, None, KNOWN_FROM, None


async def load(dsn: str, schema: str, assets: int, contracts: int) -> None:
    rng = random.Random(12)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table(  # the inventory's asset_index: the rows the coverage index reads
            "asset_index", columns=["asset_id", "kind", "site", "criticality", "owner", "name", "model", "covered", "version"],
            records=((asset_id(i), KINDS[i % 5], f"Plant {i % 40}", CRITICALITY[i % 4], None, f"Asset {i}", None, False, 1)
                     for i in range(assets)))
        await conn.copy_records_to_table("coverage_contract_facts", records=contract_rows(contracts, rng))
        await conn.copy_records_to_table("coverage_link_facts", records=link_rows(assets, contracts, rng))
        await conn.execute("ANALYZE")
        links = await conn.fetchval("SELECT count(*) FROM coverage_link_facts")
        print(f"loaded {assets:,} assets, {contracts:,} contracts, {links:,} link rows with COPY "
              f"in {time.perf_counter() - started:.0f} s")
    finally:
        await conn.close()


def figures(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{name:<44} n={len(ms):>5}  p50 {statistics.median(ms):6.2f} ms  p99 {p99:6.2f} ms")


async def timed(engine, asset_ids: list[str], known_at: dt.datetime | None) -> float:
    started = time.perf_counter()
    answer = await proofs.coverage_of(UnitOfWork(engine, views=SqlViews), asset_ids, ON, known_at)
    assert len(answer) == len(asset_ids)
    return time.perf_counter() - started


async def show_plans(dsn: str, schema: str, assets: int) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        for known_at in (None, REVISED_AT - dt.timedelta(days=1)):
            query = linked_query([asset_id(assets // 2)], known_at).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}")
            print(f"-- plan, known_at={known_at}:\n" + "\n".join(r[0] for r in plan))
    finally:
        await conn.close()


async def run(dsn: str, assets: int, contracts: int, queries: int, explain: bool) -> None:
    schema = f"bench_coverage_{os.getpid()}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"), pool_size=2,
                                 connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        await load(dsn, schema, assets, contracts)
        rng = random.Random(7)
        if explain:
            await show_plans(dsn, schema, assets)
        for _ in range(50):  # warm the pool, the statement cache and the index pages touched first
            await timed(engine, [asset_id(rng.randrange(assets))], None)
        figures("single asset, as known now", [await timed(engine, [asset_id(rng.randrange(assets))], None)
                                               for _ in range(queries)])
        figures("single asset, as known at an earlier instant",
                [await timed(engine, [asset_id(rng.randrange(assets))], REVISED_AT - dt.timedelta(days=1))
                 for _ in range(queries)])
        figures("50 assets, as known now", [await timed(engine, [asset_id(i) for i in rng.sample(range(assets), 50)], None)
                                            for _ in range(max(1, queries // 4))])
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--contracts", type=int, default=200_000)
    parser.add_argument("--explain", action="store_true", help="print the plans of the proof's query")
    parser.add_argument("--queries", type=int, default=2000, help="single-asset proofs timed (a quarter as many of 50)")
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL", DEFAULT_DSN).replace("postgresql+asyncpg://", "postgresql://")
    asyncio.run(run(dsn, args.assets, args.contracts, args.queries, args.explain))


if __name__ == "__main__":
    main()
