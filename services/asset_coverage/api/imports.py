"""REST resources of spreadsheet imports: POST /api/v1/imports/{assets|contracts|links} (a CSV or
XLSX upload -> 202 with the job), GET /api/v1/imports[/{id}] (progress), GET .../report (CSV, XLSX)."""

import csv
import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, AsyncIterator, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.errors import too_large
from shared.backbone.rest import UNSUPPORTED_MEDIA_TYPE, Cursor, Limit, Page, page_of
from services.asset_coverage.application import import_jobs
from services.asset_coverage.domain.import_columns import TOO_LARGE, ImportKind

router = APIRouter(prefix="/imports", tags=["imports"])
may_import = require_roles(Role.ASSET_MANAGER)

FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the file
_COPY_CHUNK = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM_JSON = "application/problem+json"
JobState = Literal["queued", "running", "completed", "failed"]


class Accepted(BaseModel):
    created: int
    updated: int
    unchanged: int
    total: int


class ImportJobView(BaseModel):
    job_id: UUID
    kind: ImportKind
    state: JobState
    format: Literal["xlsx", "csv"]
    filename: str | None
    total_rows: int | None = Field(description="data rows in the file (from the XLSX dimension or a line count)")
    rows_read: int
    accepted: Accepted
    rejected: int = Field(description="rows refused: see the report")
    percentage: float | None = Field(description="rows read of the total rows, 0..100")
    created_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None = Field(description="why a failed job stopped")
    report: str = Field(description="where the report of refused rows downloads (?format=csv|xlsx)")

    @classmethod
    def of(cls, job: dict) -> "ImportJobView":
        total, read = job["total_rows"], job["rows_read"]
        if job["state"] == "completed":
            percentage = 100.0
        elif total:
            percentage = round(min(99.9, 100.0 * read / total), 1)
        else:
            percentage = None if total is None else 0.0
        accepted = Accepted(created=job["created"], updated=job["updated"], unchanged=job["unchanged"],
                            total=job["created"] + job["updated"] + job["unchanged"])
        return cls(**{k: job[k] for k in ("job_id", "kind", "state", "format", "filename", "total_rows", "rows_read",
                                          "rejected", "created_by", "created_at", "started_at", "finished_at", "error")},
                   accepted=accepted, percentage=percentage, report=f"/api/v1/imports/{job['job_id']}/report")


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "additionalProperties": False, "properties": {
        "file": {"type": "string", "format": "binary", "description": "the .xlsx or .csv (UTF-8; , ; or tab)"},
    }},
}}}


async def multipart_only(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise HTTPException(415, detail={"rule": UNSUPPORTED_MEDIA_TYPE,
                                         "message": f"send the file as multipart/form-data, not {content_type or 'no content type'}"})


def upload_too_large(limit: int):
    return too_large(TOO_LARGE, f"the file is larger than the limit of {limit} bytes (IMPORT_MAX_BYTES)",
                     field="file", limit_bytes=limit)


async def _receive(request: Request, limit: int, directory: Path) -> tuple[Path, str | None]:
    """The form's file, streamed to a file in `directory` (never whole in memory), or 413 as soon as
    more bytes arrive than the limit allows."""
    most = limit + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        raise upload_too_large(limit)

    async def bounded():
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise upload_too_large(limit)
            yield chunk

    try:
        form = await MultiPartParser(request.headers, bounded(), max_files=1, max_fields=1, max_part_size=1024).parse()
    except MultiPartException as exc:
        raise RequestValidationError([{"type": "value_error", "loc": ("body",), "msg": f"the form cannot be read: {exc}"}])
    try:
        file = form.get("file")
        errors = [{"type": "extra_forbidden", "loc": ("body", name), "msg": "the form takes the file only"}
                  for name in dict.fromkeys(form.keys()) if name != "file"]
        if file is None:
            errors.append({"type": "missing", "loc": ("body", "file"), "msg": "send the spreadsheet as the form field file"})
        if errors:
            raise RequestValidationError(errors)
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix="import-", delete=False) as target:
            path = Path(target.name)
            try:
                if isinstance(file, UploadFile):
                    file.file.seek(0)
                    shutil.copyfileobj(file.file, target, _COPY_CHUNK)
                else:  # a part sent without a filename: a (small) form field
                    target.write(file.encode())
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        if path.stat().st_size > limit:
            path.unlink(missing_ok=True)
            raise upload_too_large(limit)
        return path, file.filename if isinstance(file, UploadFile) else None
    finally:
        await form.close()


def _create_route(kind: ImportKind) -> None:
    @router.post(f"/{kind}", status_code=status.HTTP_202_ACCEPTED, response_model=ImportJobView,
                 name=f"import_{kind}", summary=f"Import {kind} from a CSV or XLSX file",
                 openapi_extra={"requestBody": UPLOAD_BODY},
                 responses={413: _problem("The file is larger than IMPORT_MAX_BYTES (import.too_large; limit_bytes)"),
                            415: _problem("The body is not multipart/form-data (request.unsupported_media_type)"),
                            422: _problem("Not a spreadsheet, no header row, unknown or missing columns "
                                          "(import.not_a_spreadsheet, import.no_header, import.unknown_columns, "
                                          "import.missing_columns), or no file in the form")})
    async def start_import(request: Request, response: Response,
                           _: Annotated[None, Depends(multipart_only)],
                           principal: Annotated[Principal, Depends(may_import)],
                           ctx: Annotated[ServiceContext, Depends(context)]) -> ImportJobView:
        """Checks the file (a spreadsheet, its header) and queues the job, which runs in the service:
        poll the Location for progress; the report lists every refused row."""
        settings = ctx.settings
        path, filename = await _receive(request, settings.import_max_bytes, settings.import_dir)
        job = await import_jobs.start_import(ctx.engine, kind, path, filename, principal.subject)
        response.headers["Location"] = f"/api/v1/imports/{job['job_id']}"
        return ImportJobView.of(job)


for _kind in ("assets", "contracts", "links"):
    _create_route(_kind)


@router.get("", response_model=Page[ImportJobView], dependencies=[Depends(any_role)])
async def list_imports(ctx: Annotated[ServiceContext, Depends(context)], cursor: Cursor = None,
                       limit: Limit = 50) -> dict:
    """Import jobs, oldest first."""
    rows = await import_jobs.list_imports(ctx.engine, cursor, limit)
    return page_of([ImportJobView.of(r) for r in rows], limit, key=lambda v: v.job_id)


@router.get("/{job_id:uuid}", response_model=ImportJobView, dependencies=[Depends(any_role)])
async def get_import(job_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ImportJobView:
    """The job's state and counts, while it runs too."""
    return ImportJobView.of(await import_jobs.get_import(ctx.engine, job_id))


REPORT_HEADER = ("row", "column", "reason", "value")


@router.get("/{job_id:uuid}/report", response_class=Response, dependencies=[Depends(any_role)],
            responses={200: {"description": "One row per problem: row (header = 1), column, reason, the value",
                             "content": {"text/csv": {"schema": {"type": "string"}},
                                         XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
async def download_report(job_id: UUID, ctx: Annotated[ServiceContext, Depends(context)],
                          format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv") -> Response:
    """The refused rows found so far (all of them once the job has finished)."""
    rows = await import_jobs.report_rows(ctx.engine, job_id)
    name = f"import-{job_id}-report.{format}"
    if format == "csv":
        return StreamingResponse(_csv(rows), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})
    path = await _xlsx(rows, ctx.settings.import_dir)
    return FileResponse(path, media_type=XLSX, filename=name, background=BackgroundTask(path.unlink, missing_ok=True))


async def _csv(rows: AsyncIterator[tuple]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_HEADER)
    async for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _as_text_cell(sheet, value):
    """A value as text: one written as a formula (`=...`) must not become one in the report."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    cell.data_type = "s"
    return cell


async def _xlsx(rows: AsyncIterator[tuple], directory: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # rows go to a temporary file as they are appended
    sheet = workbook.create_sheet("report")
    sheet.append(REPORT_HEADER)
    async for row in rows:
        sheet.append([_as_text_cell(sheet, v) for v in row])
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, prefix="report-", suffix=".xlsx", delete=False) as target:
        path = Path(target.name)
    workbook.save(path)
    return path
