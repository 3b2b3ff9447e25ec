"""Order sync's part of the activation and expiry waves, without the stack: how fast its
`order_sync-time` consumer applies ServiceContractDateReached events, as the consumer gets them.

`python -m bench.order_sync_wave [--contracts 4000] [--batch 200] [--json PATH]`

Needs only PostgreSQL: DATABASE_URL (a superuser DSN), else the dev stack's (`make run`). In a
throwaway schema of the `postgres` database it applies order sync's migrations, drafts N service
contracts with 3 lines and 2 entitlements each (as bench/expiry_wave.py does), then applies one
ServiceContractDateReached per contract through the consumer's `apply_batch`, `--batch` events
per transaction: first on the start date (the contract and its items become Active), then after
the end date (Expired). For each wave it prints contracts/s and SQL statements per contract
(counted on the engine, inbox and events included), checks every entitlement row reached the
state, and drops the schema. The raw PostgreSQL yardstick (single-row commits/s) is printed to
judge the machine's load.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import time
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import sqlalchemy as sa

from bench.slice import raw_inserts
from bench.service_timers import admin_dsn
from services import order_sync
from services.order_sync.adapters.indexes import SqlIndexes
from services.order_sync.application.indexing import save_indexes
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract
from shared.backbone.inbox import apply_batch
from shared.backbone.database import create_engine
from shared.backbone.event_routing import dispatcher
from shared.backbone.migrations import upgrade_to_head
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.lifecycle import ServiceContractDateReached

try:
    from services.order_sync.application.consumed_events import reaching_dates as handler
except ImportError:  # a checkout from before the batched handler, to compare with
    from services.order_sync.application.consumed_events import reach_dates as handler

MIGRATIONS = Path(order_sync.__file__).parent / "adapters" / "migrations"
START, END = dt.date(2031, 1, 1), dt.date(2031, 12, 31)


async def seed(engine, n: int, per_transaction: int = 500) -> list[uuid.UUID]:
    ids = []
    for first in range(0, n, per_transaction):
        async with UnitOfWork(engine, actor="bench", views=SqlIndexes) as uow:
            for i in range(first, min(n, first + per_transaction)):
                lines = [ContractLine(uuid.uuid4(), f"service {k}", 1, Decimal("100"), START, END,
                                      sold_product_id=uuid.uuid4()) for k in range(3)]
                ents = [Entitlement(uuid.uuid4(), "onsite-repair", START, END, line_id=lines[0].line_id),
                        Entitlement(uuid.uuid4(), "remote-diagnostics", START, END)]
                contract = ServiceContract.draft(uuid.uuid4(), number=f"BENCH-{i}", account="bench", start_date=START,
                                                 end_date=END, lines=lines, entitlements=ents)
                uow.add(contract)
                ids.append(contract.contract_id)
            await save_indexes(uow)
            await uow.commit()
    return ids


async def wave(engine, counted: list[int], ids: list[uuid.UUID], day: dt.date, batch: int, state: str) -> dict:
    handle = dispatcher({ServiceContractDateReached: handler})
    envelopes = [Envelope(ServiceContractDateReached(
        contract_id=c, date=day, time_zone="UTC", reached_at=dt.datetime.combine(day, dt.time(), dt.UTC), due=[]),
        stream_version=1) for c in ids]
    statements = counted[0]
    began = time.perf_counter()
    for first in range(0, len(envelopes), batch):
        messages = [(e, "bench.lifecycle", 0, first + k) for k, e in enumerate(envelopes[first:first + batch])]
        await apply_batch(engine, "order_sync-time", messages, handle, views=SqlIndexes)
    seconds = time.perf_counter() - began
    statements = counted[0] - statements
    async with engine.connect() as conn:
        reached = (await conn.execute(sa.text("SELECT count(*) FROM entitlement_index WHERE state = :s"),
                                      {"s": state})).scalar_one()
    assert reached == 2 * len(ids), f"{reached} of {2 * len(ids)} entitlements {state}"
    return {"seconds": round(seconds, 2), "contracts_per_s": round(len(ids) / seconds, 1),
            "statements_per_contract": round(statements / len(ids), 2)}


async def run(n: int, batch: int) -> dict:
    dsn = admin_dsn()
    schema = f"bench_os_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"), search_path=schema)
    counted = [0]
    sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: counted.__setitem__(0, counted[0] + 1))
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        began = time.perf_counter()
        ids = await seed(engine, n)
        result = {"contracts": n, "batch": batch, "handler": f"{handler.__module__}.{getattr(handler, '__name__', type(handler).__name__)}",
                  "seeded_s": round(time.perf_counter() - began, 1),
                  "activation": await wave(engine, counted, ids, START, batch, "active"),
                  "expiry": await wave(engine, counted, ids, END + dt.timedelta(days=1), batch, "expired")}
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
    result["raw_postgres"] = await raw_inserts(dsn, 1, 3.0)
    result["load"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args.contracts, args.batch))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
