"""REST resources of obligations (phase 7): record one on a contract, list a contract's, read one
with its occurrences and their states, complete an occurrence (a note, optionally an evidence
file), download the evidence, cancel.

RACI phase 7: sales (R), legal counsel and finance (C) and the contract manager (A) record and
cancel; an owner or a contract manager completes; everyone reads."""

import datetime as dt
import re
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, authenticated, require_roles
from shared.backbone.clock import today_in
from shared.backbone.errors import invalid, too_large
from shared.backbone.rest import Cursor, Date, Limit, Page, answer_created, page_of, replayed, with_version
from shared.events.obligations import EvidenceDocument, ObligationKind, Recurrence
from services.clm.api.versions import _problem, multipart_only
from services.clm.application import obligations
from services.clm.domain import rules
from services.clm.domain.obligation import Obligation, OccurrenceState

router = APIRouter(prefix="/contracts", tags=["obligations"])
obligations_router = APIRouter(prefix="/obligations", tags=["obligations"])
may_record = require_roles(Role.CONTRACT_MANAGER, Role.SALES, Role.LEGAL_COUNSEL, Role.FINANCE)
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_NOTE = 4000
NOTE_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"  # something besides blanks, and no NUL (PostgreSQL cannot store it)


class RecurrenceInput(BaseModel):
    rrule: str = Field(min_length=1, max_length=500, description="an RFC 5545 RRULE value without DTSTART",
                       examples=["FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=12"])
    start: Date = Field(description="DTSTART: the first possible occurrence, in the contract's zone")


class ObligationInput(BaseModel):
    obligation_id: UUID | None = Field(None, description="client-chosen: the same id again answers the obligation recorded")
    kind: ObligationKind
    description: str = Field(min_length=1, max_length=2000, examples=["Quarterly SLA report to the customer"])
    owners: list[str] = Field(min_length=1, max_length=20, description="user ids, e-mail addresses or role:<name>",
                              examples=[["ann@vendor.example", "role:finance"]])
    due_date: Date | None = Field(None, description="a one-off obligation's due date (or give recurrence)")
    recurrence: RecurrenceInput | None = Field(None, description="a recurring obligation's rule (or give due_date)")
    source_clause: str | None = Field(None, max_length=200, description="the clause the obligation comes from")


class CancelInput(BaseModel):
    reason: str | None = Field(None, max_length=1000)


class OccurrenceView(BaseModel):
    due_on: dt.date
    state: OccurrenceState = Field(description="upcoming before due_on, due on it, overdue after it (in the "
                                               "obligation's zone), completed once completed")
    note: str | None = None
    evidence: EvidenceDocument | None = None
    completed_by: str | None = None
    completed_at: dt.datetime | None = None


class ObligationSummary(BaseModel):
    obligation_id: UUID
    contract_id: UUID
    kind: ObligationKind
    description: str
    owners: list[str]
    due_date: dt.date | None
    recurrence: Recurrence | None
    origin: Literal["manual", "executed_terms"]
    canceled: bool


class ObligationView(ObligationSummary):
    time_zone: str
    source_clause: str | None
    recorded_by: str
    recorded_at: dt.datetime
    canceled_at: dt.datetime | None
    occurrences: list[OccurrenceView]
    version: int

    @classmethod
    def of(cls, obligation: Obligation, days: list[dt.date], today: dt.date) -> "ObligationView":
        r = obligation.recorded
        occurrences = []
        for day in days:
            done = obligation.completed.get(day)
            occurrences.append(OccurrenceView(
                due_on=day, state=obligation.state_of(day, today), note=done.note if done else None,
                evidence=done.evidence if done else None, completed_by=done.completed_by if done else None,
                completed_at=done.at if done else None))
        return cls(**r.model_dump(include={"obligation_id", "contract_id", "kind", "description", "owners", "due_date",
                                           "recurrence", "origin", "time_zone", "source_clause", "recorded_by"}),
                   recorded_at=r.at, canceled=obligation.canceled is not None,
                   canceled_at=obligation.canceled.at if obligation.canceled else None, occurrences=occurrences,
                   version=obligation.version)


def _today(ctx: ServiceContext, obligation: Obligation) -> dt.date:
    return today_in(ctx.clock, obligation.recorded.time_zone)


def _answer(response: Response, obligation: Obligation, today: dt.date) -> ObligationView:
    with_version(response, obligation.version)
    return ObligationView.of(obligation, obligation.around(today), today)


@router.post("/{contract_id}/obligations", status_code=status.HTTP_201_CREATED, response_model=ObligationView,
             responses=replayed(ObligationView))
async def record_obligation(contract_id: UUID, body: ObligationInput, response: Response,
                            principal: Annotated[Principal, Depends(may_record)],
                            ctx: Annotated[ServiceContext, Depends(context)]) -> ObligationView:
    """An obligation due once (due_date) or on a recurrence (RRULE), in the contract's zone;
    422 obligation.due_date_or_recurrence, obligation.rrule_invalid, obligation.rrule_empty."""
    obligation_id = body.obligation_id or uuid4()
    recurrence = Recurrence(**body.recurrence.model_dump()) if body.recurrence else None
    obligation, is_new = await obligations.record(
        ctx.uow(principal), contract_id, obligation_id, kind=body.kind, description=body.description,
        owners=body.owners, due_date=body.due_date, recurrence=recurrence, source_clause=body.source_clause,
        by=principal.subject, at=ctx.clock.now())
    answer_created(response, f"/api/v1/obligations/{obligation_id}", is_new)
    return _answer(response, obligation, _today(ctx, obligation))


@router.get("/{contract_id}/obligations", response_model=Page[ObligationSummary], dependencies=[Depends(any_role)])
async def list_obligations(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)],
                           cursor: Cursor = None, limit: Limit = 50) -> dict:
    """The contract's obligations in id order, canceled ones too."""
    rows = await obligations.of_contract(ctx.uow(), contract_id, after=cursor, limit=limit)
    items = [ObligationSummary(
        obligation_id=r["obligation_id"], contract_id=r["contract_id"], kind=r["kind"], description=r["description"],
        owners=r["owners"], due_date=r["due_date"],
        recurrence=Recurrence(rrule=r["rrule"], start=r["rrule_start"]) if r["rrule"] else None, origin=r["origin"],
        canceled=r["canceled_at"] is not None) for r in rows]
    return page_of(items, limit, key=lambda o: o.obligation_id)


From = Annotated[Date | None, Query(alias="from", description="occurrences from this date (inclusive)")]
To = Annotated[Date | None, Query(alias="to", description="occurrences up to this date (inclusive)")]


@obligations_router.get("/{obligation_id}", response_model=ObligationView, dependencies=[Depends(any_role)])
async def get_obligation(obligation_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)],
                         from_date: From = None, to_date: To = None) -> ObligationView:
    """With its occurrences: `from`..`to` (at most 500), by default the last 3 before today and the next 5."""
    obligation, today = await obligations.get(ctx.uow(), obligation_id, ctx.clock)
    with_version(response, obligation.version)
    if from_date is None and to_date is None:
        return ObligationView.of(obligation, obligation.around(today), today)
    low, high = from_date or dt.date.min, to_date
    if high is not None and high < low:
        raise invalid("request.range_invalid", "`to` lies before `from`", field="to")
    return ObligationView.of(obligation, obligation.occurrences(low, high), today)


COMPLETION_BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["note"], "additionalProperties": False, "properties": {
        "note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE, "pattern": NOTE_PATTERN,
                 "description": "how the occurrence was met (not only blanks)"},
        "evidence": {"type": "string", "format": "binary",
                     "description": f"optional: {', '.join(sorted(rules.EVIDENCE_MEDIA_TYPES))}; at most 10 MB"},
    }},
}}}


@obligations_router.post("/{obligation_id}/occurrences/{due_on}/completion", response_model=ObligationView,
                         openapi_extra={"requestBody": COMPLETION_BODY},
                         responses={403: _problem("Neither an owner nor a contract manager (obligation.not_owner)"),
                                    413: _problem("The evidence is larger than 10 MB (obligation.evidence_too_large)")})
async def complete_occurrence(obligation_id: UUID, due_on: Date, request: Request, response: Response,
                              _: Annotated[None, Depends(multipart_only)],
                              principal: Annotated[Principal, Depends(authenticated)],
                              ctx: Annotated[ServiceContext, Depends(context)]) -> ObligationView:
    """By an owner or a contract manager (403 obligation.not_owner); 422 obligation.not_an_occurrence;
    a second completion of the occurrence answers 200 with it unchanged."""
    note, evidence = await _read_completion(request)
    obligation, _ = await obligations.complete(ctx.uow(principal), obligation_id, due_on, note=note, evidence=evidence,
                                               subject=principal.subject, roles=set(principal.roles),
                                               at=ctx.clock.now())
    today = _today(ctx, obligation)
    with_version(response, obligation.version)
    return ObligationView.of(obligation, sorted({due_on, *obligation.around(today)}), today)


EVIDENCE = {200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                  "description": "The evidence file; ETag and X-Document-SHA256 are its SHA-256"}}


@obligations_router.get("/{obligation_id}/occurrences/{due_on}/evidence", response_class=Response,
                        dependencies=[Depends(any_role)], responses=EVIDENCE)
async def download_evidence(obligation_id: UUID, due_on: Date, ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    ref, content = await obligations.evidence(ctx.uow(), obligation_id, due_on)
    return Response(content, media_type=ref.media_type, headers={
        "Content-Disposition": f'attachment; filename="{ref.filename}"', "ETag": f'"{ref.sha256}"',
        "X-Document-SHA256": ref.sha256})


@obligations_router.post("/{obligation_id}/cancellation", response_model=ObligationView)
async def cancel_obligation(obligation_id: UUID, body: CancelInput, response: Response,
                            principal: Annotated[Principal, Depends(may_record)],
                            ctx: Annotated[ServiceContext, Depends(context)]) -> ObligationView:
    """No further occurrences fall due and open ones stop reminding; a second cancellation changes nothing."""
    obligation = await obligations.cancel(ctx.uow(principal), obligation_id, reason=body.reason, by=principal.subject,
                                          at=ctx.clock.now())
    return _answer(response, obligation, _today(ctx, obligation))


async def _read_completion(request: Request) -> tuple[str, tuple[bytes, str, str] | None]:
    """The form's note and evidence file, refused with 413 as soon as more bytes arrive than allowed."""
    most = rules.EVIDENCE_MAX_BYTES + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    refusal = too_large(rules.OBLIGATION_EVIDENCE_TOO_LARGE, f"evidence is at most {rules.EVIDENCE_MAX_BYTES} bytes",
                        field="evidence", limit_bytes=rules.EVIDENCE_MAX_BYTES)
    if declared.isdigit() and int(declared) > most:
        raise refusal

    async def bounded():
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise refusal
            yield chunk

    try:
        form = await MultiPartParser(request.headers, bounded(), max_files=2, max_fields=4,
                                     max_part_size=MAX_NOTE * 4).parse()
    except MultiPartException as exc:
        raise RequestValidationError([{"type": "value_error", "loc": ("body",), "msg": f"the form cannot be read: {exc}"}])
    note, file = form.get("note"), form.get("evidence")
    errors = [{"type": "extra_forbidden", "loc": ("body", name), "msg": "the form takes note and evidence only"}
              for name in dict.fromkeys(form.keys()) if name not in ("note", "evidence")]
    errors += [{"type": "too_long", "loc": ("body", name), "msg": f"send one {name}"}
               for name in ("note", "evidence") if len(form.getlist(name)) > 1]
    if not isinstance(note, str) or not re.fullmatch(NOTE_PATTERN, note) or len(note) > MAX_NOTE:
        errors.append({"type": "missing", "loc": ("body", "note"),
                       "msg": f"say how the occurrence was met (1 to {MAX_NOTE} characters)"})
    if file is not None and not isinstance(file, UploadFile):
        errors.append({"type": "value_error", "loc": ("body", "evidence"), "msg": "evidence is a file"})
    if errors:
        raise RequestValidationError(errors)
    if file is None:
        return note.strip(), None
    content = await file.read()
    media_type = (file.content_type or "").split(";")[0].strip().lower()
    filename = "".join(c for c in (file.filename or "evidence") if c.isprintable() and c not in '"\\/') or "evidence"
    return note.strip(), (content, media_type, filename[:200])
