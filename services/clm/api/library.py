"""REST resources of the clause and template library: /api/v1/clauses, /api/v1/templates (with the
preview drafting calls), /api/v1/documents and /api/v1/library/starter."""

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import (
    Amount, Cursor, IfMatch, Limit, Page, answer_created, expected_version, found, page_of, replayed, with_version,
)
from shared.events.contracts import Party
from shared.events.documents import DocumentRef
from shared.events.library import (
    ClauseVariant, TemplateKind, TemplateSection, TemplateVariable, VariantRule,
)
from shared.events.quotes import RiskTier
from services.clm.application import library as use_cases
from services.clm.application.library_starter import install_starter_library
from services.clm.domain.documents.model import DocumentClause, PricingAppendix, PricingRow
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.template import SectionDraft, SlotDraft, Template, TemplateContent

router = APIRouter(tags=["library"])

# RACI phase 2: the contract manager owns templates and clauses; Legal (R) and the CM (A) draft.
may_edit = require_roles(Role.CONTRACT_MANAGER)
may_draft = require_roles(Role.LEGAL_COUNSEL, Role.CONTRACT_MANAGER)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Title = Annotated[str, Field(min_length=1, max_length=300)]


class ClauseBody(BaseModel):
    title: Title
    text: Text = Field(description="the standard text; placeholders as {{ name }}")
    fallbacks: list[ClauseVariant] = Field(default_factory=list, max_length=20)
    expected_version: int | None = Field(None, description="Refuse with 409 if the clause moved on")


class NewClause(ClauseBody):
    clause_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$", description="stable slug, unique in the library")


class ClauseVersionView(BaseModel):
    version: int
    title: str
    text: str
    fallbacks: list[ClauseVariant]
    variables: list[str]


class ClauseView(BaseModel):
    clause_id: UUID
    key: str
    version: int = Field(description="the latest version")
    latest: ClauseVersionView
    versions: list[ClauseVersionView]

    @classmethod
    def of(cls, clause: Clause) -> "ClauseView":
        versions = [_clause_version(v) for v in clause.versions]
        return cls(clause_id=UUID(clause.id), key=clause.key, version=clause.version, latest=versions[-1], versions=versions)


def _clause_version(v) -> ClauseVersionView:
    return ClauseVersionView(version=v.version, title=v.title, text=v.text, fallbacks=v.fallbacks, variables=v.variables)


class ClauseSummary(BaseModel):
    clause_id: UUID
    key: str
    title: str
    latest_version: int


class SlotBody(BaseModel):
    clause_id: UUID
    clause_version: int | None = Field(None, ge=1, description="the version to pin; the latest when left out")
    include_when: str | None = Field(None, max_length=1000, description='CEL on deal fields, e.g. region == "EU"')
    variants: list[VariantRule] = Field(default_factory=list, max_length=20)


class SectionBody(BaseModel):
    heading: Title
    slots: list[SlotBody] = Field(min_length=1, max_length=50)


class TemplateBody(BaseModel):
    name: Title
    sections: list[SectionBody] = Field(min_length=1, max_length=50)
    variables: list[TemplateVariable] = Field(default_factory=list, max_length=100)
    pricing_appendix: bool = False
    expected_version: int | None = Field(None, description="Refuse with 409 if the template moved on")

    def content(self) -> TemplateContent:
        return TemplateContent(
            name=self.name, variables=tuple(self.variables), pricing_appendix=self.pricing_appendix,
            sections=tuple(SectionDraft(s.heading, tuple(
                SlotDraft(x.clause_id, x.clause_version, x.include_when, tuple(x.variants)) for x in s.slots))
                for s in self.sections),
        )


class NewTemplate(TemplateBody):
    template_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    kind: TemplateKind


class TemplateVersionView(BaseModel):
    version: int
    name: str
    sections: list[TemplateSection]
    variables: list[TemplateVariable]
    pricing_appendix: bool


class TemplateView(BaseModel):
    template_id: UUID
    kind: TemplateKind
    version: int = Field(description="the latest version")
    latest: TemplateVersionView
    versions: list[TemplateVersionView]

    @classmethod
    def of(cls, template: Template) -> "TemplateView":
        versions = [_template_version(v) for v in template.versions]
        return cls(template_id=UUID(template.id), kind=template.kind, version=template.version, latest=versions[-1],
                   versions=versions)


def _template_version(v) -> TemplateVersionView:
    return TemplateVersionView(version=v.version, name=v.name, sections=v.sections, variables=v.variables,
                               pricing_appendix=v.pricing_appendix)


class TemplateSummary(BaseModel):
    template_id: UUID
    kind: TemplateKind
    name: str
    latest_version: int


# A deal's currency as conditions compare it (currency == "EUR"): three capital letters, not checked
# against ISO 4217 here, as the quote that carries the deal fields already did.
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]


class Deal(BaseModel):
    """The deal fields conditions read; a condition naming one that is left out refuses the draft."""

    region: str | None = Field(None, max_length=32)
    industry: str | None = Field(None, max_length=64)
    risk_tier: RiskTier | None = None
    data_residency: str | None = Field(None, max_length=32)
    currency: CurrencyCode | None = None
    deal_size: Amount | None = None
    max_discount_percent: Amount | None = None
    term_months: int | None = Field(None, gt=0, le=600)


class PricingLine(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=200)
    quantity: Amount
    unit_price: Amount
    discount_percent: Amount = Decimal(0)
    net_amount: Amount


class Pricing(BaseModel):
    currency: CurrencyCode
    lines: list[PricingLine] = Field(min_length=1, max_length=500)


VariableValue = Annotated[str, Field(max_length=2000)] | int | float


class DraftBody(BaseModel):
    deal: Deal = Field(default_factory=Deal)
    variables: dict[str, VariableValue] = Field(
        default_factory=dict, max_length=100, description="values of the template's variables")
    title: str | None = Field(None, max_length=300, description="the document's title; the template's name by default")
    parties: list[Party] = Field(default_factory=list, max_length=20)
    pricing: Pricing | None = Field(None, description="the quote lines, for a template with a pricing appendix")

    def request(self) -> use_cases.DraftRequest:
        pricing = None
        if self.pricing is not None:
            rows = tuple(PricingRow(**line.model_dump()) for line in self.pricing.lines)
            pricing = PricingAppendix(self.pricing.currency, rows, sum((r.net_amount for r in rows), Decimal(0)))
        return use_cases.DraftRequest(
            deal=self.deal.model_dump(), variables=dict(self.variables), title=self.title,
            parties=tuple((p.role, p.name) for p in self.parties), pricing=pricing,
        )


class SelectedClause(BaseModel):
    number: str
    heading: str
    text: str
    clause_id: UUID
    clause_version: int
    variant: str

    @classmethod
    def of(cls, c: DocumentClause) -> "SelectedClause":
        return cls(number=c.number, heading=c.heading, text=c.text, clause_id=c.clause_id,
                   clause_version=c.clause_version, variant=c.variant)


class PreviewView(BaseModel):
    template_id: UUID
    template_version: int
    title: str
    clauses: list[SelectedClause]
    pricing_total: Decimal | None


class StarterLibrary(BaseModel):
    clauses: dict[str, UUID] = Field(description="clause id by key")
    templates: dict[str, UUID] = Field(description="template id by kind")
    created: int = Field(description="clauses and templates this call created (0 when installed before)")


@router.post("/clauses", status_code=status.HTTP_201_CREATED, response_model=ClauseView, responses=replayed(ClauseView))
async def create_clause(body: NewClause, response: Response, principal: Annotated[Principal, Depends(may_edit)],
                        ctx: Annotated[ServiceContext, Depends(context)]) -> ClauseView:
    clause_id = body.clause_id or uuid4()
    clause, is_new = await use_cases.create_clause(ctx.uow(principal), clause_id, key=body.key, title=body.title,
                                                   text=body.text, fallbacks=body.fallbacks)
    answer_created(response, f"/api/v1/clauses/{clause_id}", is_new)
    with_version(response, clause.version)
    return ClauseView.of(clause)


@router.get("/clauses", response_model=Page[ClauseSummary], dependencies=[Depends(any_role)])
async def list_clauses(ctx: Annotated[ServiceContext, Depends(context)], cursor: Cursor = None, limit: Limit = 100) -> dict:
    rows = await use_cases.list_clauses(ctx.uow(), cursor, limit)
    return page_of([ClauseSummary(**row._mapping) for row in rows], limit, lambda c: c.clause_id)


@router.get("/clauses/{clause_id}", response_model=ClauseView, dependencies=[Depends(any_role)])
async def get_clause(clause_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)]) -> ClauseView:
    clause = await use_cases.get_clause(ctx.uow(), clause_id)
    with_version(response, clause.version)
    return ClauseView.of(clause)


@router.get("/clauses/{clause_id}/versions/{version}", response_model=ClauseVersionView, dependencies=[Depends(any_role)])
async def get_clause_version(clause_id: UUID, version: int, ctx: Annotated[ServiceContext, Depends(context)]) -> ClauseVersionView:
    clause = await use_cases.get_clause(ctx.uow(), clause_id)
    return _clause_version(found(clause.version_of(version), "clause_version", f"{clause_id} v{version}"))


@router.post("/clauses/{clause_id}/versions", status_code=status.HTTP_201_CREATED, response_model=ClauseView)
async def publish_clause_version(clause_id: UUID, body: ClauseBody, response: Response,
                                 principal: Annotated[Principal, Depends(may_edit)],
                                 ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> ClauseView:
    clause = await use_cases.publish_clause_version(
        ctx.uow(principal), clause_id, expected_version(if_match, body.expected_version),
        title=body.title, text=body.text, fallbacks=body.fallbacks)
    response.headers["Location"] = f"/api/v1/clauses/{clause_id}/versions/{clause.version}"
    with_version(response, clause.version)
    return ClauseView.of(clause)


@router.post("/templates", status_code=status.HTTP_201_CREATED, response_model=TemplateView, responses=replayed(TemplateView))
async def create_template(body: NewTemplate, response: Response, principal: Annotated[Principal, Depends(may_edit)],
                          ctx: Annotated[ServiceContext, Depends(context)]) -> TemplateView:
    template_id = body.template_id or uuid4()
    template, is_new = await use_cases.create_template(ctx.uow(principal), template_id, body.kind, body.content())
    answer_created(response, f"/api/v1/templates/{template_id}", is_new)
    with_version(response, template.version)
    return TemplateView.of(template)


@router.get("/templates", response_model=Page[TemplateSummary], dependencies=[Depends(any_role)])
async def list_templates(ctx: Annotated[ServiceContext, Depends(context)], kind: TemplateKind | None = None,
                         cursor: Cursor = None, limit: Limit = 100) -> dict:
    rows = await use_cases.list_templates(ctx.uow(), kind, cursor, limit)
    return page_of([TemplateSummary(**row._mapping) for row in rows], limit, lambda t: t.template_id)


@router.get("/templates/{template_id}", response_model=TemplateView, dependencies=[Depends(any_role)])
async def get_template(template_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)]) -> TemplateView:
    template = await use_cases.get_template(ctx.uow(), template_id)
    with_version(response, template.version)
    return TemplateView.of(template)


@router.get("/templates/{template_id}/versions/{version}", response_model=TemplateVersionView,
            dependencies=[Depends(any_role)])
async def get_template_version(template_id: UUID, version: int,
                               ctx: Annotated[ServiceContext, Depends(context)]) -> TemplateVersionView:
    template = await use_cases.get_template(ctx.uow(), template_id)
    return _template_version(found(template.version_of(version), "template_version", f"{template_id} v{version}"))


@router.post("/templates/{template_id}/versions", status_code=status.HTTP_201_CREATED, response_model=TemplateView)
async def publish_template_version(template_id: UUID, body: TemplateBody, response: Response,
                                   principal: Annotated[Principal, Depends(may_edit)],
                                   ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> TemplateView:
    template = await use_cases.publish_template_version(
        ctx.uow(principal), template_id, expected_version(if_match, body.expected_version), body.content())
    response.headers["Location"] = f"/api/v1/templates/{template_id}/versions/{template.version}"
    with_version(response, template.version)
    return TemplateView.of(template)


@router.post("/templates/{template_id}/versions/{version}/preview", response_model=PreviewView,
             responses={200: {"content": {DOCX: {"schema": {"type": "string", "format": "binary"}}},
                              "description": "The selected clauses, or with format=docx the document (stored; "
                                             "Location names its download)"}})
async def preview(template_id: UUID, version: int, body: DraftBody, principal: Annotated[Principal, Depends(may_draft)],
                  ctx: Annotated[ServiceContext, Depends(context)],
                  format: Annotated[Literal["json", "docx"], Query(description="docx: the Word document")] = "json"):
    """What drafting from this template version gives for the deal: the clauses the conditions select,
    with their variables filled in; with `format=docx` the .docx itself."""
    if format == "docx":
        ref, content = await use_cases.preview_docx(ctx.uow(principal), template_id, version, body.request())
        return Response(content, media_type=DOCX, headers=_document_headers(ref))
    drafted = await use_cases.preview(ctx.uow(principal), template_id, version, body.request())
    document = drafted.document
    return PreviewView(template_id=template_id, template_version=version, title=document.title,
                       clauses=[SelectedClause.of(c) for c in document.clauses],
                       pricing_total=document.pricing.total if document.pricing else None)


@router.get("/documents/{document_id}", response_class=Response, dependencies=[Depends(any_role)],
            responses={200: {"content": {DOCX: {"schema": {"type": "string", "format": "binary"}},
                                         "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The stored bytes; X-Document-SHA256 is their SHA-256"}})
async def download_document(document_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    ref, content = await use_cases.get_document(ctx.uow(), document_id)
    return Response(content, media_type=ref.media_type, headers=_document_headers(ref))


def _document_headers(ref: DocumentRef) -> dict[str, str]:
    return {
        "Location": f"/api/v1/documents/{ref.document_id}",
        "Content-Disposition": f'attachment; filename="{ref.filename}"',
        "X-Document-Id": str(ref.document_id),
        "X-Document-SHA256": ref.sha256,
        "ETag": f'"{ref.sha256}"',
    }


@router.post("/library/starter", response_model=StarterLibrary)
async def install_starter(principal: Annotated[Principal, Depends(may_edit)],
                          ctx: Annotated[ServiceContext, Depends(context)]) -> StarterLibrary:
    """Installs the starter templates (NDA, MSA, SOW, order form, DPA) and their clauses; again, it changes nothing."""
    installed = await install_starter_library(ctx.uow(principal))
    return StarterLibrary(clauses=installed.clauses, templates=installed.templates, created=installed.created)
