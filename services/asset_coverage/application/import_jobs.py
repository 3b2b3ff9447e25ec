"""Use cases of import jobs as the API meets them: check an uploaded file and queue its job on this
instance, read a job, list them, read its report rows."""

import asyncio
from pathlib import Path
from typing import AsyncIterator
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone.errors import NotFound, invalid
from services.asset_coverage.adapters import import_jobs
from services.asset_coverage.adapters.spreadsheets import open_sheet, sniff
from services.asset_coverage.application.import_runner import INSTANCE
from services.asset_coverage.domain.import_columns import NO_HEADER, ImportKind, map_header


def check_file(kind: ImportKind, path: Path) -> tuple[str, int | None]:
    """The file's format and data rows, or 422 before any job starts: not a spreadsheet, no header,
    unknown or missing columns (the header is cheap to read)."""
    format = sniff(path)
    with open_sheet(path, format) as sheet:
        first = next(iter(sheet.rows()), None)
        if first is None:
            raise invalid(NO_HEADER, "the file is empty: its first row must name the columns", field="file")
        map_header(kind, list(first[1]))
        return format, sheet.total_rows


async def start_import(engine: AsyncEngine, kind: ImportKind, path: Path, filename: str | None,
                       by: str | None) -> dict:
    """The queued job of a checked file (kept at `path` until the job ends); the file is deleted when refused."""
    try:
        format, total = await asyncio.to_thread(check_file, kind, path)  # openpyxl may scan the sheet once
        job_id = uuid4()
        async with engine.begin() as conn:
            await import_jobs.insert_job(conn, job_id, kind, format, filename, str(path), INSTANCE, by, total)
            return await import_jobs.get_job(conn, job_id)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def get_import(engine: AsyncEngine, job_id: UUID) -> dict:
    async with engine.connect() as conn:
        job = await import_jobs.get_job(conn, job_id)
    if job is None:
        raise NotFound("import", job_id)
    return job


async def list_imports(engine: AsyncEngine, after: UUID | None, limit: int) -> list[dict]:
    async with engine.connect() as conn:
        return await import_jobs.list_jobs(conn, after, limit)


async def report_rows(engine: AsyncEngine, job_id: UUID) -> AsyncIterator[tuple]:
    await get_import(engine, job_id)
    return import_jobs.report_rows(engine, job_id)
