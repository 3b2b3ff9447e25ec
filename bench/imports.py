"""How fast does a spreadsheet import commit rows? (issue 12: >= 2,000 rows/s for a 100,000-row XLSX)

`python -m bench.imports [--rows 100000 --batch 500 --kinds assets,contracts --profile]`

Needs only PostgreSQL: DATABASE_URL (a superuser DSN), else the dev stack's (`make run`). In a
throwaway schema of the `postgres` database it applies asset_coverage's migrations, writes an XLSX
of --rows assets (and one of --rows vendor contracts), and runs each through the job code the
service runs (`application/import_runner.run_job`: streamed reading, validation, batches through
the registry use cases, the job row per batch). It prints the file's size, reading + validating
alone, the whole import, rows/s and the events appended; then imports the same file again (every
row unchanged: no events) and drops the schema. Nothing is published (no broker needed).
"""

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import pstats
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import create_async_engine

from services.asset_coverage.adapters import import_jobs
from services.asset_coverage.adapters.views import SqlViews
from services.asset_coverage.adapters.spreadsheets import open_sheet
from services.asset_coverage.application.import_runner import INSTANCE, run_job
from services.asset_coverage.domain.import_columns import map_header
from services.asset_coverage.domain.import_rows import RowReader
from services.asset_coverage.settings import AssetCoverageSettings
from services.catalogue import by_name
from shared.backbone.app import ServiceContext
from shared.backbone.clock import SystemClock
from shared.backbone.migrations import upgrade_to_head
from shared.backbone.outbox import OutboxRelay

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "services" / "asset_coverage" / "adapters" / "migrations"
ADMIN_DSN = "postgresql://postgres:postgres@127.0.0.1:25432/postgres"


def admin_dsn() -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", ADMIN_DSN).replace("postgresql+asyncpg://", "postgresql://"))
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def write_xlsx(kind: str, rows: int, path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    kinds = ["robot", "cnc_machine", "plc", "server"]
    if kind == "assets":
        sheet.append(["Asset tag", "Kind", "Name", "Model", "Site", "Criticality", "Owner"])
        for i in range(rows):
            sheet.append([f"AT-{i:07}", kinds[i % 4], f"Asset {i}", "KR 210", f"Plant {i % 9}", "high",
                          "ops@example.com"])
    else:
        sheet.append(["Number", "Vendor", "Vendor contract number", "Name", "Contract model", "Start date",
                      "End date", "Response hours", "Payment amount", "Currency", "Payment schedule", "Owners"])
        for i in range(rows):
            sheet.append([f"OPS-{i:07}", f"Vendor {i % 50}", f"VC-{i:07}", f"Maintenance {i}", "maintenance",
                          dt.date(2026, 1, 1), dt.date(2028, 12, 31), 4, "1200.00", "EUR", "annually",
                          "ops@example.com"])
    workbook.save(path)


def read_only(kind: str, path: Path) -> float:
    started = time.perf_counter()
    with open_sheet(path, "xlsx") as sheet:
        rows = sheet.rows()
        reader = RowReader(kind, map_header(kind, list(next(rows)[1])))
        for number, cells in rows:
            reader.read(number, cells)
    return time.perf_counter() - started


async def import_once(ctx, kind: str, path: Path, keep: Path) -> tuple[float, dict]:
    job_id = uuid.uuid4()
    copy = keep.with_name(f"{keep.stem}-{job_id.hex[:6]}.xlsx")
    copy.write_bytes(path.read_bytes())  # the job deletes its file when it ends
    async with ctx.engine.begin() as conn:
        await import_jobs.insert_job(conn, job_id, kind, "xlsx", path.name, str(copy), INSTANCE, "bench", None)
        job = await import_jobs.claim_queued(conn, INSTANCE)
    started = time.perf_counter()
    await run_job(ctx, job, asyncio.Event())
    elapsed = time.perf_counter() - started
    async with ctx.engine.connect() as conn:
        return elapsed, await import_jobs.get_job(conn, job_id)


async def events(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM events"))).scalar_one()


async def run(rows: int, batch: int, kinds: list[str], profile: bool) -> None:
    dsn = admin_dsn()
    schema = f"bench_imports_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    engine = create_async_engine(url, pool_size=4, connect_args={"server_settings": {"search_path": schema}})
    directory = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        await upgrade_to_head(engine, schema, MIGRATIONS)
        settings = AssetCoverageSettings(database_url=url, import_batch_size=batch, import_dir=directory)
        ctx = ServiceContext(by_name("asset_coverage"), settings, engine, OutboxRelay(engine, lambda: None, service="bench"),
                             SystemClock(), views=SqlViews)  # the query tables the service's units of work keep
        for kind in kinds:
            path = directory / f"{kind}.xlsx"
            started = time.perf_counter()
            write_xlsx(kind, rows, path)
            print(f"{kind}: wrote {rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")
            reading = read_only(kind, path)
            print(f"  reading + validating alone: {reading:.1f}s = {rows / reading:,.0f} rows/s")
            before = await events(engine)
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            elapsed, job = await import_once(ctx, kind, path, path)
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
            appended = await events(engine) - before
            print(f"  first import: {elapsed:.1f}s = {rows / elapsed:,.0f} rows/s; {job['state']}, created "
                  f"{job['created']:,}, rejected {job['rejected']}, {appended:,} events, {job['batches']} batches")
            before = await events(engine)
            elapsed, job = await import_once(ctx, kind, path, path)
            print(f"  re-import:    {elapsed:.1f}s = {rows / elapsed:,.0f} rows/s; unchanged {job['unchanged']:,}, "
                  f"{await events(engine) - before} events")
    finally:
        await engine.dispose()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
        for leftover in directory.iterdir():
            leftover.unlink()
        directory.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--kinds", default="assets,contracts")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import of each file")
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.batch, args.kinds.split(","), args.profile))


if __name__ == "__main__":
    main()
