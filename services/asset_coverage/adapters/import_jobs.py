"""Import jobs as work records (not event-sourced: their effects are the events of what they commit):
the job row with its progress, and the report rows of its refused rows. A batch's progress and
report rows are written in the batch's own transaction, so the counts are what was committed.

Times are the database's (`now()`): heartbeats are compared across instances."""

from typing import AsyncIterator
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.asset_coverage.domain.import_rows import BatchProgress, Problem

metadata = sa.MetaData()

import_jobs = sa.Table(
    "import_jobs", metadata,
    sa.Column("job_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("filename", sa.Text),
    sa.Column("file_path", sa.Text),
    sa.Column("instance", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("total_rows", sa.Integer),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("created", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("unchanged", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("batches", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Index("import_jobs_by_creation", "created_at", "job_id"),
    sa.Index("import_jobs_unfinished", "state", "instance", postgresql_where=sa.text("state IN ('queued', 'running')")),
)

import_report_rows = sa.Table(
    "import_report_rows", metadata,
    sa.Column("job_id", sa.Uuid, sa.ForeignKey("import_jobs.job_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("column_name", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("value", sa.Text),
)

UNFINISHED = ("queued", "running")


_NO_NUL = str.maketrans({"\x00": "\ufffd"})  # PostgreSQL text holds no NUL; the report shows where it was


def _clean(text: str | None) -> str | None:
    return None if text is None else text.translate(_NO_NUL)


async def insert_job(conn: AsyncConnection, job_id: UUID, kind: str, format: str, filename: str | None,
                     file_path: str, instance: str, created_by: str | None, total_rows: int | None) -> None:
    await conn.execute(import_jobs.insert().values(
        job_id=job_id, kind=kind, state="queued", format=format, filename=_clean(filename), file_path=file_path,
        instance=instance, created_by=created_by, created_at=sa.func.now(), heartbeat_at=sa.func.now(),
        total_rows=total_rows, rows_read=0, created=0, updated=0, unchanged=0, rejected=0, batches=0))


async def claim_queued(conn: AsyncConnection, instance: str) -> dict | None:
    """The oldest job queued on this instance (whose file is here), now running; None when none."""
    oldest = (sa.select(import_jobs.c.job_id)
              .where(import_jobs.c.state == "queued", import_jobs.c.instance == instance)
              .order_by(import_jobs.c.created_at).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    row = (await conn.execute(
        import_jobs.update().where(import_jobs.c.job_id == oldest)
        .values(state="running", started_at=sa.func.now(), heartbeat_at=sa.func.now()).returning(import_jobs)
    )).mappings().first()
    return dict(row) if row else None


async def record_batch(conn: AsyncConnection, job_id: UUID, total: BatchProgress, problems: list[Problem],
                       reported_before: int) -> None:
    """The job's counts as they are after this batch, and the batch's report rows (seq after those before)."""
    await conn.execute(import_jobs.update().where(import_jobs.c.job_id == job_id).values(
        rows_read=total.rows_read, created=total.created, updated=total.updated, unchanged=total.unchanged,
        rejected=total.rejected, batches=import_jobs.c.batches + 1, heartbeat_at=sa.func.now()))
    if problems:
        await conn.execute(import_report_rows.insert(), [
            {"job_id": job_id, "seq": reported_before + i, "row_number": p.row, "column_name": p.column,
             "reason": _clean(p.reason), "value": _clean(p.value)}
            for i, p in enumerate(problems, start=1)])


async def finish(conn: AsyncConnection, job_id: UUID, state: str, error: str | None = None) -> None:
    await conn.execute(import_jobs.update().where(import_jobs.c.job_id == job_id, import_jobs.c.state.in_(UNFINISHED))
                       .values(state=state, error=_clean(error), finished_at=sa.func.now(), file_path=None))


async def heartbeat(conn: AsyncConnection, instance: str) -> None:
    await conn.execute(import_jobs.update().where(import_jobs.c.instance == instance,
                                                  import_jobs.c.state.in_(UNFINISHED)).values(heartbeat_at=sa.func.now()))


async def fail_stale(conn: AsyncConnection, stale_seconds: float, error: str) -> list[dict]:
    """Jobs whose instance stopped heartbeating (it crashed): failed, with the files they left."""
    rows = await conn.execute(
        import_jobs.update()
        .where(import_jobs.c.state.in_(UNFINISHED),
               import_jobs.c.heartbeat_at < sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, stale_seconds))
        .values(state="failed", error=error, finished_at=sa.func.now(), file_path=None)
        .returning(import_jobs.c.job_id, import_jobs.c.instance))
    return [dict(r) for r in rows.mappings()]


async def fail_unfinished_of(conn: AsyncConnection, instance: str, error: str) -> None:
    await conn.execute(import_jobs.update().where(import_jobs.c.instance == instance,
                                                  import_jobs.c.state.in_(UNFINISHED))
                       .values(state="failed", error=error, finished_at=sa.func.now(), file_path=None))


async def get_job(conn: AsyncConnection, job_id: UUID) -> dict | None:
    row = (await conn.execute(sa.select(import_jobs).where(import_jobs.c.job_id == job_id))).mappings().first()
    return dict(row) if row else None


async def list_jobs(conn: AsyncConnection, after: UUID | None, limit: int) -> list[dict]:
    """Oldest first; `after`: the last job of the previous page."""
    query = sa.select(import_jobs).order_by(import_jobs.c.created_at, import_jobs.c.job_id).limit(limit)
    if after is not None:
        created = sa.select(import_jobs.c.created_at).where(import_jobs.c.job_id == after).scalar_subquery()
        query = query.where(sa.tuple_(import_jobs.c.created_at, import_jobs.c.job_id) > sa.tuple_(created, after))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def report_rows(engine: AsyncEngine, job_id: UUID) -> AsyncIterator[tuple]:
    """(row, column, reason, value) in the order found, streamed from a server-side cursor."""
    async with engine.connect() as conn:
        query = (sa.select(import_report_rows.c.row_number, import_report_rows.c.column_name,
                           import_report_rows.c.reason, import_report_rows.c.value)
                 .where(import_report_rows.c.job_id == job_id).order_by(import_report_rows.c.seq))
        async for row in await conn.stream(query.execution_options(yield_per=1000)):
            yield tuple(row)
