"""REST resources of drafting and negotiation: /api/v1/contracts/{id}/draft, its versions (upload,
list, read, download), comparison and redline of two versions, deviations, negotiated terms."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.openapi import PROBLEM_JSON
from shared.backbone.rest import UNSUPPORTED_MEDIA_TYPE, Amount, Date, IfMatch, expected_version, with_version
from shared.events.documents import DocumentRef
from shared.events.negotiation import (
    ContractVersionAdded, DeviationFlagged, NegotiatedTerms, TemplateUsed, VersionClause, VersionOrigin,
)
from services.clm.api.contracts import ContractView
from services.clm.api.library import DOCX, CurrencyCode, VariableValue
from services.clm.application import drafting, negotiation
from services.clm.domain.contract import Contract

router = APIRouter(prefix="/contracts", tags=["negotiation"])

# RACI phase 2: Legal drafts (R), the contract manager is accountable; phase 3: Sales negotiates
# (R), Legal is accountable.
may_draft = require_roles(Role.LEGAL_COUNSEL, Role.CONTRACT_MANAGER)
may_negotiate = require_roles(Role.SALES, Role.LEGAL_COUNSEL)
FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and the origin field around the file


class DraftFromTemplate(BaseModel):
    template_id: UUID
    template_version: int | None = Field(None, ge=1, description="the latest version when left out")
    start_date: Date | None = Field(None, description="the request's desired start date when left out")
    variables: dict[str, VariableValue] = Field(
        default_factory=dict, max_length=100,
        description="values of the template's variables beyond what the request gives (parties, dates, term, currency, "
                    "deal size), e.g. liability_cap, governing_law, payment_days")
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class VersionSummary(BaseModel):
    version_number: int
    origin: VersionOrigin
    author: str
    added_at: dt.datetime
    document: DocumentRef
    template: TemplateUsed | None


class VersionView(VersionSummary):
    variables: dict[str, str]
    clauses: list[VersionClause]
    terms: NegotiatedTerms

    @classmethod
    def of(cls, v: ContractVersionAdded) -> "VersionView":
        return cls(**v.model_dump(include=set(cls.model_fields)))


class WordOpView(BaseModel):
    op: Literal["equal", "insert", "delete"]
    words: list[str]


class ComparedClause(BaseModel):
    number: str
    heading: str
    text: str


class ClauseChangeView(BaseModel):
    kind: Literal["added", "removed", "changed", "unchanged"]
    old: ComparedClause | None
    new: ComparedClause | None
    matched_by: Literal["clause_id", "number_heading", "similarity"] | None
    similarity: float | None
    heading_diff: list[WordOpView]
    text_diff: list[WordOpView]


class ComparisonView(BaseModel):
    from_version: int
    to_version: int
    added: int
    removed: int
    changed: int
    changes: list[ClauseChangeView]


class DeviationView(BaseModel):
    deviation_id: UUID
    version_number: int = Field(description="the version that first had it")
    kind: Literal["non_standard_clause", "term_changed"]
    clause_number: str | None
    heading: str | None
    closest_clause_id: UUID | None
    score: float | None
    term: str | None
    before: str | None
    after: str | None
    flagged_at: dt.datetime
    cleared_in_version: int | None = None
    cleared_at: dt.datetime | None = None

    @classmethod
    def of(cls, flagged: DeviationFlagged, contract: Contract) -> "DeviationView":
        cleared = contract.cleared.get(flagged.deviation_id)
        return cls(**flagged.model_dump(include=set(cls.model_fields)),
                   cleared_in_version=cleared.version_number if cleared else None,
                   cleared_at=cleared.cleared_at if cleared else None)


class Deviations(BaseModel):
    open: list[DeviationView]
    cleared: list[DeviationView]


class TermsBody(BaseModel):
    """The terms agreed; those left out stay as they were."""

    liability_cap: Amount | None = None
    liability_cap_currency: CurrencyCode | None = None
    auto_renewal: bool | None = None
    payment_days: int | None = Field(None, ge=0, le=3650)
    governing_law: str | None = Field(None, min_length=1, max_length=100, examples=["Germany"])
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class TermsView(BaseModel):
    contract_id: UUID
    terms: NegotiatedTerms = Field(description="as the latest version reads them, with what was recorded since")


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _binary(description: str) -> dict:
    return {200: {"content": {DOCX: {"schema": {"type": "string", "format": "binary"}}}, "description": description}}


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file", "origin"], "additionalProperties": False, "properties": {
        "file": {"type": "string", "format": "binary", "description": "the .docx"},
        "origin": {"type": "string", "enum": ["internal_edit", "counterparty_upload"]},
    }},
    "encoding": {"file": {"contentType": f"{DOCX}, application/octet-stream"}},
}}}


async def multipart_only(request: Request) -> None:
    """Before the token is checked, as rest.json_body does for JSON: an upload is multipart/form-data."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise HTTPException(415, detail={"rule": UNSUPPORTED_MEDIA_TYPE,
                                         "message": f"send the version as multipart/form-data, not {content_type or 'no content type'}"})


@router.post("/{contract_id}/draft", status_code=status.HTTP_201_CREATED, response_model=ContractView)
async def draft_from_template(contract_id: UUID, body: DraftFromTemplate, response: Response,
                              principal: Annotated[Principal, Depends(may_draft)],
                              ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> ContractView:
    """Drafts the requested contract from a template: version 1, generated, with the .docx stored."""
    contract = await drafting.draft_from_template(
        ctx.uow(principal), contract_id, template_id=body.template_id, template_version=body.template_version,
        start_date=body.start_date, variables=body.variables, vendor=ctx.settings.vendor_name, by=principal.subject,
        at=ctx.clock.now(), expected_version=expected_version(if_match, body.expected_version))
    response.headers["Location"] = f"/api/v1/contracts/{contract_id}/versions/1"
    with_version(response, contract.version)
    return ContractView.of(contract)


@router.get("/{contract_id}/versions", response_model=list[VersionSummary], dependencies=[Depends(any_role)])
async def list_versions(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> list[VersionSummary]:
    contract = await negotiation.get_contract(ctx.uow(), contract_id)
    return [VersionSummary(**v.model_dump(include=set(VersionSummary.model_fields))) for v in contract.versions]


@router.post("/{contract_id}/versions", status_code=status.HTTP_201_CREATED, response_model=VersionView,
             openapi_extra={"requestBody": UPLOAD_BODY},
             responses={413: _problem("The upload is larger than UPLOAD_MAX_BYTES (upload.too_large; limit_bytes)"),
                        415: _problem("The body is not multipart/form-data (request.unsupported_media_type)")})
async def upload_version(contract_id: UUID, request: Request, response: Response,
                         _: Annotated[None, Depends(multipart_only)],
                         principal: Annotated[Principal, Depends(may_negotiate)],
                         ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> VersionView:
    """An internal edit or the counterparty's .docx, parsed into clauses and matched against the
    library; refused (and nothing stored) when it is not a .docx, a zip bomb or too large."""
    limit = ctx.settings.upload_max_bytes
    content, origin = await _read_upload(request, limit)
    added = await negotiation.add_version(ctx.uow(principal), contract_id, content, origin=origin, by=principal.subject,
                                          at=ctx.clock.now(), max_bytes=limit, expected_version=expected_version(if_match))
    response.headers["Location"] = f"/api/v1/contracts/{contract_id}/versions/{added.version_number}"
    return VersionView.of(added)


@router.get("/{contract_id}/versions/{number}", response_model=VersionView, dependencies=[Depends(any_role)])
async def get_version(contract_id: UUID, number: int, ctx: Annotated[ServiceContext, Depends(context)]) -> VersionView:
    contract = await negotiation.get_contract(ctx.uow(), contract_id)
    return VersionView.of(contract.version_numbered(number))


@router.get("/{contract_id}/versions/{number}/document", response_class=Response, dependencies=[Depends(any_role)],
            responses=_binary("The version's .docx; ETag is its SHA-256"))
async def download_version(contract_id: UUID, number: int, ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    ref, content = await negotiation.version_document(ctx.uow(), contract_id, number)
    return Response(content, media_type=ref.media_type, headers={
        "Content-Disposition": f'attachment; filename="{ref.filename}"', "ETag": f'"{ref.sha256}"',
        "X-Document-Id": str(ref.document_id), "X-Document-SHA256": ref.sha256})


FromVersion = Annotated[int, Query(alias="from", ge=1, description="the older version")]
ToVersion = Annotated[int, Query(alias="to", ge=1, description="the newer version")]


@router.get("/{contract_id}/comparison", response_model=ComparisonView, dependencies=[Depends(any_role)])
async def compare_versions(contract_id: UUID, from_version: FromVersion, to_version: ToVersion,
                           ctx: Annotated[ServiceContext, Depends(context)]) -> ComparisonView:
    """Clause by clause: added, removed, changed (with a word diff) and unchanged."""
    compared = await negotiation.comparison(ctx.uow(), contract_id, from_version, to_version)
    data = compared.as_json()
    return ComparisonView(from_version=from_version, to_version=to_version, added=compared.count("added"),
                          removed=compared.count("removed"), changed=compared.count("changed"), changes=data["changes"])


@router.get("/{contract_id}/redline", response_class=Response, dependencies=[Depends(any_role)],
            responses=_binary("The newer version with the changes from the older as Word tracked changes"))
async def redline(contract_id: UUID, from_version: FromVersion, to_version: ToVersion,
                  ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    content, filename = await negotiation.redline(ctx.uow(), contract_id, from_version, to_version)
    return Response(content, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{contract_id}/deviations", response_model=Deviations, dependencies=[Depends(any_role)])
async def deviations(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> Deviations:
    contract = await negotiation.get_contract(ctx.uow(), contract_id)
    views = [DeviationView.of(d, contract) for d in contract.deviations.values()]
    return Deviations(open=[v for v in views if v.cleared_at is None], cleared=[v for v in views if v.cleared_at])


@router.put("/{contract_id}/negotiated-terms", response_model=TermsView)
async def record_terms(contract_id: UUID, body: TermsBody, response: Response,
                       principal: Annotated[Principal, Depends(may_negotiate)],
                       ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> TermsView:
    """Records negotiated terms as data; the terms left out stay as they were."""
    terms = NegotiatedTerms(**body.model_dump(exclude={"expected_version"}))
    contract = await negotiation.record_terms(ctx.uow(principal), contract_id, terms, by=principal.subject,
                                              at=ctx.clock.now(), expected_version=expected_version(if_match, body.expected_version))
    with_version(response, contract.version)
    return TermsView(contract_id=contract_id, terms=contract.negotiated_terms)


async def _read_upload(request: Request, limit: int) -> tuple[bytes, VersionOrigin]:
    """The form's file and origin, refused with 413 as soon as more bytes arrive than the limit allows
    (by Content-Length before reading, while streaming without it)."""
    most = limit + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        raise negotiation.upload_too_large(limit)

    async def bounded():
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise negotiation.upload_too_large(limit)
            yield chunk

    try:
        form = await MultiPartParser(request.headers, bounded(), max_files=2, max_fields=8, max_part_size=1024).parse()
    except MultiPartException as exc:
        raise RequestValidationError([{"type": "value_error", "loc": ("body",), "msg": f"the form cannot be read: {exc}"}])
    file, origin = form.get("file"), form.get("origin")
    errors = [{"type": "extra_forbidden", "loc": ("body", name), "msg": "the form takes file and origin only"}
              for name in dict.fromkeys(form.keys()) if name not in ("file", "origin")]
    errors += [{"type": "too_long", "loc": ("body", name), "msg": f"send one {name}"}
               for name in ("file", "origin") if len(form.getlist(name)) > 1]
    if file is None:
        errors.append({"type": "missing", "loc": ("body", "file"), "msg": "the .docx is sent as the form field file"})
    if origin not in ("internal_edit", "counterparty_upload"):
        errors.append({"type": "enum", "loc": ("body", "origin"), "msg": "origin is internal_edit or counterparty_upload"})
    if errors:
        raise RequestValidationError(errors)
    content = await file.read() if isinstance(file, UploadFile) else file.encode()
    return content, origin
