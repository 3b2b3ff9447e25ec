"""The background loop that runs import jobs in the service (ServiceDefinition.background): it takes
the jobs queued on this instance (their files are on its disk) one at a time, oldest first.

A job is never resumed: its file is local and its committed batches are already in the log, so a
job cut short is marked failed, saying up to which row it committed, and the file is uploaded again
(a re-import changes nothing that was committed). On shutdown the loop fails its own unfinished jobs
at once; after a crash the instance's heartbeat stops, and any instance fails the jobs whose
heartbeat is older than IMPORT_STALE_SECONDS."""

import asyncio
import os
import socket
from pathlib import Path
from uuid import UUID, uuid4

from shared.backbone.errors import DomainError
from shared.backbone.logging import get_logger
from services.asset_coverage.adapters import import_jobs
from services.asset_coverage.adapters.spreadsheets import open_sheet
from services.asset_coverage.application.imports import Interrupted, run_import

log = get_logger(__name__)

# This process: the jobs whose files it keeps.
INSTANCE = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
POLL_SECONDS = 0.5  # an idle instance asks for queued jobs twice a second
HEARTBEAT_SECONDS = 10.0
CRASHED = "the service instance running this job stopped; rows committed so far stay committed: upload the file again"
STOPPED = "the service stopped before this job finished; rows committed so far stay committed: upload the file again"


async def run_imports(ctx, stop: asyncio.Event) -> None:
    heartbeats = asyncio.create_task(_heartbeats(ctx, stop), name="import-heartbeats")
    try:
        while not stop.is_set():
            job = await _claim(ctx)
            if job is None:
                try:
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
                except TimeoutError:
                    pass
                continue
            try:
                await run_job(ctx, job, stop)
            except Exception as exc:  # finishing it failed (an outage): the stale sweep fails it later
                log.error("imports.finish_failed", job_id=str(job["job_id"]), error=repr(exc))
    finally:
        heartbeats.cancel()
        try:
            async with ctx.engine.begin() as conn:
                await import_jobs.fail_unfinished_of(conn, INSTANCE, STOPPED)
        except Exception as exc:  # the database may be what stopped: the stale sweep covers it
            log.warning("imports.fail_on_stop_failed", error=repr(exc))


async def _claim(ctx) -> dict | None:
    try:
        async with ctx.engine.begin() as conn:
            return await import_jobs.claim_queued(conn, INSTANCE)
    except Exception as exc:  # an outage: try again at the next poll
        log.warning("imports.claim_failed", error=repr(exc))
        return None


async def _heartbeats(ctx, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with ctx.engine.begin() as conn:
                await import_jobs.heartbeat(conn, INSTANCE)
                for job in await import_jobs.fail_stale(conn, ctx.settings.import_stale_seconds, CRASHED):
                    log.warning("imports.stale_job_failed", job_id=str(job["job_id"]), instance=job["instance"])
        except Exception as exc:
            log.warning("imports.heartbeat_failed", error=repr(exc))
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def run_job(ctx, job: dict, stop: asyncio.Event) -> None:
    job_id: UUID = job["job_id"]
    path = Path(job["file_path"])
    reported = 0

    async def record_batch(uow, progress, problems) -> None:
        nonlocal reported
        await import_jobs.record_batch(uow.conn, job_id, progress, problems, reported)
        reported += len(problems)

    state, error = "completed", None
    try:
        with open_sheet(path, job["format"]) as sheet:
            await run_import(job["kind"], sheet.rows(), lambda: ctx.uow(actor=job["created_by"]), record_batch,
                             ctx.settings.import_batch_size, stop.is_set)
    except Interrupted:
        state, error = "failed", STOPPED
    except DomainError as refused:  # the file changed its mind after its header was checked
        state, error = "failed", refused.message
    except Exception as exc:
        log.error("imports.job_failed", job_id=str(job_id), error=repr(exc))
        state, error = "failed", f"the job stopped on an error: {type(exc).__name__}: {exc}"[:1000]
    finally:
        path.unlink(missing_ok=True)
    async with ctx.engine.begin() as conn:
        await import_jobs.finish(conn, job_id, state, error)
    log.info("imports.job_finished", job_id=str(job_id), state=state)
