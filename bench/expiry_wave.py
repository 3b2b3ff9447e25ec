"""The expiry wave: N service contracts (default 100,000), each with 3 lines and 2 entitlements, all
starting and all expiring at the same instant. Prints how long until every one of them, with
its children, is Active and then Expired in the shared read model.

`python -m bench.expiry_wave [--contracts 100000] [--batch 500] [--poll 5] [--json PATH]`

1. Seed: the contracts are drafted through order sync's domain model and unit of work (the same
   code as POST /api/v1/service-contracts, in-process, `--batch` contracts per transaction) into
   the running order sync's schema; its outbox relay publishes them, the scheduler sets 12 timers
   per contract (activation and expiry of the contract, 3 lines, 2 entitlements) and the
   projection writes the read model. Seeding is timed too, but it is not the figure asked for.
2. Activation wave: both dev clocks (order sync and scheduler) are moved to the start instant;
   timed until the read model shows every bench contract, line and entitlement Active.
3. Expiry wave: both clocks are moved past the end date; timed until the read model shows every
   bench contract, line and entitlement Expired. This is the figure.

Uses the running dev stack (`make run`) or starts and later stops it. A benchmark, not a test:
it prints figures and exits 0 unless the stack cannot be reached.
"""

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from bench.slice import admin_dsn, dev_token, ensure_stack, stop_stack
from services.catalogue import by_name
from services.order_sync.adapters.indexes import SqlIndexes
from services.order_sync.application.indexing import save_indexes
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract
from shared.backbone.unit_of_work import UnitOfWork

ORDER_SYNC = f"http://127.0.0.1:{by_name('order_sync').local_port}"
SCHEDULER = f"http://127.0.0.1:{by_name('lifecycle_scheduler').local_port}"
GIVE_UP_S = 3600


def database_dsn() -> str:
    return admin_dsn().rsplit("/", 1)[0] + "/clm_platform"


async def seed(account: str, n: int, batch: int, start: dt.date, end: dt.date) -> float:
    engine = create_async_engine(
        database_dsn().replace("postgresql://", "postgresql+asyncpg://"),
        connect_args={"server_settings": {"search_path": "order_sync"}},
    )
    began = time.perf_counter()
    try:
        for first in range(0, n, batch):
            async with UnitOfWork(engine, actor="bench", views=SqlIndexes) as uow:
                for i in range(first, min(n, first + batch)):
                    lines = [ContractLine(uuid.uuid4(), f"service {k}", 1, Decimal("100"), start, end) for k in range(3)]
                    ents = [Entitlement(uuid.uuid4(), "onsite-repair", start, end, line_id=lines[0].line_id),
                            Entitlement(uuid.uuid4(), "remote-diagnostics", start, end)]
                    uow.add(ServiceContract.draft(uuid.uuid4(), number=f"BENCH-{i}", account=account, start_date=start,
                                                  end_date=end, lines=lines, entitlements=ents))
                await save_indexes(uow)
                await uow.commit()
            if (first // batch) % 20 == 0:
                print(f"  seeded {min(n, first + batch)}/{n}", file=sys.stderr, flush=True)
    finally:
        await engine.dispose()
    return time.perf_counter() - began


async def read_model_counts(conn: asyncpg.Connection, account: str) -> dict[str, dict[str, int]]:
    counts = {}
    for what, sql in {
        "contracts": "SELECT state, count(*) FROM projection.service_contracts WHERE account = $1 GROUP BY state",
        "lines": "SELECT l.state, count(*) FROM projection.contract_lines l JOIN projection.service_contracts c "
                 "USING (contract_id) WHERE c.account = $1 GROUP BY l.state",
        "entitlements": "SELECT e.state, count(*) FROM projection.entitlements e JOIN projection.service_contracts c "
                        "USING (contract_id) WHERE c.account = $1 GROUP BY e.state",
    }.items():
        counts[what] = {r[0]: r[1] for r in await conn.fetch(sql, account)}
    return counts


async def timers_set(conn: asyncpg.Connection, due_at: dt.datetime) -> int:
    return await conn.fetchval("SELECT count(*) FROM lifecycle_scheduler.service_timers WHERE due_at = $1", due_at)


async def wait_until(what: str, check, began: float, poll: float) -> float:
    """Seconds from `began` until `check` says done, checked every `poll` seconds: the counts read
    the whole read model, and polled often they would take CPU from what is being measured."""
    last_print = 0.0
    while True:
        done, progress = await check()
        now = time.perf_counter()
        if done:
            return now - began
        if now - last_print > 10:
            print(f"  {what}: {progress} after {now - began:.0f} s", file=sys.stderr, flush=True)
            last_print = now
        if now - began > GIVE_UP_S:
            raise SystemExit(f"{what}: gave up after {GIVE_UP_S} s ({progress})")
        await asyncio.sleep(poll)


async def set_clocks(http: httpx.AsyncClient, token: str, instant: dt.datetime) -> None:
    for url in (ORDER_SYNC, SCHEDULER):
        r = await http.put(f"{url}/api/v1/ops/clock", json={"now": instant.isoformat()},
                           headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()


async def run(args) -> dict:
    token = dev_token()
    n = args.contracts
    account = f"bench-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=10) as http:
        now = dt.datetime.fromisoformat((await http.get(f"{SCHEDULER}/api/v1/ops/clock",
                                                        headers={"Authorization": f"Bearer {token}"})).json()["now"])
    start = (now + dt.timedelta(days=30)).date()
    end = start + dt.timedelta(days=180)
    starts_at = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)
    expires_at = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    print(f"{n} contracts x (3 lines + 2 entitlements), account {account}, {start}..{end} UTC", flush=True)

    conn = await asyncpg.connect(database_dsn())
    try:
        seed_s = await seed(account, n, args.batch, start, end)
        began = time.perf_counter() - seed_s

        async def seeded():
            c = await read_model_counts(conn, account)
            timers = await timers_set(conn, expires_at)
            return (c["contracts"].get("draft", 0) == n and c["entitlements"].get("draft", 0) == 2 * n
                    and timers >= 6 * n), f"read model {c}, expiry timers {timers}"

        propagated_s = await wait_until("seed propagation", seeded, began, args.poll)
        print(f"seeded: {seed_s:.1f} s in order sync ({n / seed_s:.0f} contracts/s); "
              f"in the read model with all timers set after {propagated_s:.1f} s", flush=True)

        def all_in(state: str):
            async def check():
                c = await read_model_counts(conn, account)
                done = (c["contracts"].get(state, 0) == n and c["lines"].get(state, 0) == 3 * n
                        and c["entitlements"].get(state, 0) == 2 * n)
                return done, c
            return check

        figures = {"contracts": n, "seed_s": round(seed_s, 1), "seed_propagated_s": round(propagated_s, 1)}
        async with httpx.AsyncClient(timeout=10) as http:
            for wave, instant, state in (("activation", starts_at, "active"), ("expiry", expires_at, "expired")):
                await set_clocks(http, token, instant + dt.timedelta(seconds=1))
                began = time.perf_counter()
                seconds = await wait_until(f"{wave} wave", all_in(state), began, args.poll)
                items = 6 * n
                print(f"{wave} wave: every contract, line and entitlement {state} in the read model after "
                      f"{seconds:.1f} s ({n / seconds:.0f} contracts/s, {items / seconds:.0f} items/s)", flush=True)
                figures[f"{wave}_s"] = round(seconds, 1)
        return figures
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between read-model counts")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    started = ensure_stack()
    try:
        figures = asyncio.run(run(args))
    finally:
        if started:
            stop_stack()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
