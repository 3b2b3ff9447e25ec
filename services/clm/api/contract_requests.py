"""REST resources of contract requests (phase 1): /api/v1/contract-requests.

A request from an approved quote opens by itself (QuoteApproved); these routes post self-service
requests, enrich them, move them through their states, classify and assign them. Every change
answers with the whole request and its version (also as ETag); send `If-Match: <version>` to refuse
the change with 409 if the request moved on meanwhile.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Callable
from uuid import UUID, uuid4

import pycountry
from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field, WithJsonSchema

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import (
    Amount, Cursor, Date, IfMatch, Limit, Page, answer_created, expected_version, page_of, replayed, with_version,
)
from shared.events.contracts import (
    AssigneeRole, Classification, ClassificationReason, RequestedAccount, RequestedDeal, RequestOrigin, RequestState,
    RequestTerms,
)
from shared.events.money import Currency
from shared.events.quotes import BillingFrequency, QuoteLine, RiskTier
from services.clm.application import contract_requests as use_cases
from services.clm.domain.contract import Contract
from services.clm.domain.contract.intake import priced_line

router = APIRouter(prefix="/contract-requests", tags=["contract requests"])

# RACI phase 1 (docs/design/contracting.md, "Roles"): Sales responsible, the Contract Manager accountable.
may_request = require_roles(Role.SALES, Role.CONTRACT_MANAGER)  # post, enrich, submit
may_classify = require_roles(Role.CONTRACT_MANAGER, Role.LEGAL_COUNSEL)  # classify, assign
may_work = require_roles(Role.LEGAL_COUNSEL, Role.CONTRACT_MANAGER)  # start work, ready for review
may_cancel = require_roles(Role.SALES, Role.CONTRACT_MANAGER)


# The codes themselves in the schema: a client (and the API fuzzing) sees which currency is one.
CurrencyCode = Annotated[Currency, WithJsonSchema({
    "type": "string", "enum": sorted(c.alpha_3 for c in pycountry.currencies), "description": "ISO 4217 code"})]


class NewLine(BaseModel):
    line_id: UUID | None = Field(None, description="Defaults to a generated id")
    sku: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=200)
    quantity: Amount = Field(description="more than 0")
    unit_price: Amount
    discount_percent: Amount = Field(Decimal(0), description="0 to 100")
    start_date: Date | None = None
    end_date: Date | None = None

    def line(self, i: int) -> QuoteLine:
        return priced_line(**{**self.model_dump(), "line_id": self.line_id or uuid4()}, field=f"lines[{i}]")


class DealInput(BaseModel):
    """The deal fields a person enters; deal size and the largest discount follow from the lines."""

    region: str | None = Field(None, min_length=1, max_length=32, examples=["EU"])
    industry: str | None = Field(None, min_length=1, max_length=64, examples=["manufacturing"])
    risk_tier: RiskTier | None = None
    data_residency: str | None = Field(None, min_length=1, max_length=32, examples=["EU"])


class RequestFields(BaseModel):
    currency: CurrencyCode | None = None
    term_months: int | None = Field(None, gt=0, le=600)
    billing_frequency: BillingFrequency | None = None
    time_zone: str | None = Field(None, description="IANA zone in which the line dates are read")
    desired_start_date: Date | None = None


class NewRequest(RequestFields):
    contract_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    title: str = Field(min_length=1, max_length=300)
    account: RequestedAccount
    lines: list[NewLine] = Field(default_factory=list)
    deal: DealInput = Field(default_factory=DealInput)

    def terms(self) -> RequestTerms:
        return RequestTerms(
            title=self.title, account=self.account, lines=[line.line(i) for i, line in enumerate(self.lines)],
            deal=RequestedDeal(**self.deal.model_dump()), **self.model_dump(include=set(RequestFields.model_fields)),
        )


class Enrichment(RequestFields):
    """Only the fields sent change; `lines` replaces the lines, `deal` sets the deal fields it names."""

    title: str | None = Field(None, min_length=1, max_length=300)
    account: RequestedAccount | None = None
    lines: list[NewLine] | None = None
    deal: DealInput | None = None
    expected_version: int | None = Field(None, description="Refuse with 409 if the request moved on")


class Transition(BaseModel):
    expected_version: int | None = Field(None, description="Refuse with 409 if the request moved on")


class Cancellation(Transition):
    reason: str = Field("", max_length=500, description="Required: why the request is cancelled")


class ClassificationChoice(Transition):
    classification: Classification
    reason: str = Field("", max_length=500)


class AssignmentChoice(Transition):
    queue: str | None = Field(None, min_length=1, max_length=64, examples=["legal-review"])
    assignee: str | None = Field(None, min_length=1, max_length=200, description="JWT sub of the person")
    assignee_role: AssigneeRole | None = None


class TransitionView(BaseModel):
    from_state: RequestState | None = Field(description="none for the request's opening")
    to_state: RequestState
    by: str
    at: dt.datetime
    reason: str


class ContractRequestView(RequestTerms):
    contract_id: UUID
    number: str
    origin: RequestOrigin
    quote_id: UUID | None
    quote_number: str | None
    opportunity_id: str | None
    state: RequestState
    requested_by: str
    requested_at: dt.datetime
    classification: Classification | None
    classification_reasons: list[ClassificationReason]
    queue: str | None
    assignee: str | None
    assignee_role: AssigneeRole | None
    history: list[TransitionView]
    version: int

    @classmethod
    def of(cls, c: Contract) -> "ContractRequestView":
        r, a = c.requested, c.assignment
        return cls(
            **dict(c.request_terms), contract_id=r.contract_id, number=r.number, origin=r.origin, quote_id=r.quote_id,
            quote_number=r.quote_number, opportunity_id=r.opportunity_id, state=c.request_state,
            requested_by=r.requested_by, requested_at=r.requested_at, classification=c.classification,
            classification_reasons=c.classification_reasons, queue=a.queue if a else None,
            assignee=a.assignee if a else None, assignee_role=a.assignee_role if a else None,
            history=[TransitionView(**vars(t)) for t in c.history], version=c.version,
        )


class ContractRequestSummary(BaseModel):
    contract_id: UUID
    number: str
    title: str
    account_name: str
    origin: RequestOrigin
    quote_id: UUID | None
    state: RequestState
    state_since: dt.datetime
    classification: Classification | None
    queue: str | None
    assignee: str | None
    assignee_role: AssigneeRole | None
    version: int


async def _change(ctx: ServiceContext, principal: Principal, contract_id: UUID, response: Response,
                  command: Callable[[Contract, dt.datetime], None], if_match: str | None,
                  body: Transition | None) -> ContractRequestView:
    expected = expected_version(if_match, body.expected_version if body else None)
    at = ctx.clock.now()
    contract = await use_cases.change_request(ctx.uow(principal), contract_id, lambda c: command(c, at), expected)
    with_version(response, contract.version)
    return ContractRequestView.of(contract)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContractRequestView,
             responses=replayed(ContractRequestView))
async def post_request(
    body: NewRequest, response: Response,
    principal: Annotated[Principal, Depends(may_request)], ctx: Annotated[ServiceContext, Depends(context)],
) -> ContractRequestView:
    """A self-service request in `draft`: a title and the account's name suffice; enrich it later."""
    contract_id = body.contract_id or uuid4()
    contract, is_new = await use_cases.request_contract(ctx.uow(principal), contract_id, body.terms(),
                                                        by=principal.subject, at=ctx.clock.now())
    answer_created(response, f"/api/v1/contract-requests/{contract_id}", is_new)
    with_version(response, contract.version)
    return ContractRequestView.of(contract)


@router.patch("/{contract_id}", response_model=ContractRequestView)
async def enrich_request(
    contract_id: UUID, body: Enrichment, response: Response,
    principal: Annotated[Principal, Depends(may_request)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> ContractRequestView:
    """Fills in or changes fields while the request is draft, new or work in progress."""
    sent = body.model_dump(exclude_unset=True, exclude={"expected_version", "lines", "deal", "account"})
    if body.lines is not None:
        sent["lines"] = [line.line(i) for i, line in enumerate(body.lines)]
    if body.account is not None:
        sent["account"] = body.account
    deal = body.deal.model_dump(exclude_unset=True) if body.deal is not None else None
    return await _change(ctx, principal, contract_id, response,
                         lambda c, at: c.enrich(by=principal.subject, at=at, deal=deal, **sent), if_match, body)


@router.post("/{contract_id}/submission", response_model=ContractRequestView)
async def submit_request(
    contract_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_request)], ctx: Annotated[ServiceContext, Depends(context)],
    body: Transition | None = None, if_match: IfMatch = None,
) -> ContractRequestView:
    """draft -> new. Needs a title, an account and a currency (422 names what is missing)."""
    return await _change(ctx, principal, contract_id, response,
                         lambda c, at: c.submit(by=principal.subject, at=at), if_match, body)


@router.post("/{contract_id}/work", response_model=ContractRequestView)
async def start_work(
    contract_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_work)], ctx: Annotated[ServiceContext, Depends(context)],
    body: Transition | None = None, if_match: IfMatch = None,
) -> ContractRequestView:
    """new -> work_in_progress, or awaiting_review -> work_in_progress (back to negotiation). By the
    assignee or a contract manager; a request in a queue is taken by whoever starts it."""
    return await _change(ctx, principal, contract_id, response,
                         lambda c, at: c.start_work(by=principal.subject, roles=principal.roles, at=at), if_match, body)


@router.post("/{contract_id}/review", response_model=ContractRequestView)
async def ready_for_review(
    contract_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_work)], ctx: Annotated[ServiceContext, Depends(context)],
    body: Transition | None = None, if_match: IfMatch = None,
) -> ContractRequestView:
    """work_in_progress -> awaiting_review."""
    return await _change(ctx, principal, contract_id, response,
                         lambda c, at: c.ready_for_review(by=principal.subject, at=at), if_match, body)


@router.post("/{contract_id}/cancellation", response_model=ContractRequestView)
async def cancel_request(
    contract_id: UUID, body: Cancellation, response: Response,
    principal: Annotated[Principal, Depends(may_cancel)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> ContractRequestView:
    """Any state but closed complete and cancelled -> cancelled, with the reason."""
    return await _change(ctx, principal, contract_id, response,
                         lambda c, at: c.cancel(reason=body.reason, by=principal.subject, at=at), if_match, body)


@router.post("/{contract_id}/classification", response_model=ContractRequestView)
async def classify_request(
    contract_id: UUID, body: ClassificationChoice, response: Response,
    principal: Annotated[Principal, Depends(may_classify)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> ContractRequestView:
    """Raises the class the rules gave (never below it: 409 names the rule that holds)."""
    return await _change(ctx, principal, contract_id, response, lambda c, at: c.classify_as(
        body.classification, reason=body.reason, by=principal.subject, at=at), if_match, body)


@router.post("/{contract_id}/assignment", response_model=ContractRequestView)
async def assign_request(
    contract_id: UUID, body: AssignmentChoice, response: Response,
    principal: Annotated[Principal, Depends(may_classify)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> ContractRequestView:
    """To a queue, or to a named contract manager or legal counsel."""
    return await _change(ctx, principal, contract_id, response, lambda c, at: c.assign(
        by=principal.subject, at=at, queue=body.queue, assignee=body.assignee, assignee_role=body.assignee_role),
        if_match, body)


@router.get("/{contract_id}", response_model=ContractRequestView, dependencies=[Depends(any_role)])
async def get_request(contract_id: UUID, response: Response,
                      ctx: Annotated[ServiceContext, Depends(context)]) -> ContractRequestView:
    """The request with the history of its states: who moved it, and when."""
    contract = await use_cases.get_request(ctx.uow(), contract_id)
    with_version(response, contract.version)
    return ContractRequestView.of(contract)


@router.get("", response_model=Page[ContractRequestSummary], dependencies=[Depends(any_role)])
async def list_requests(
    ctx: Annotated[ServiceContext, Depends(context)],
    state: RequestState | None = None,
    classification: Classification | None = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    origin: RequestOrigin | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    rows = await use_cases.list_requests(ctx.uow(), after=cursor, limit=limit, state=state,
                                         classification=classification, queue=queue, assignee=assignee, origin=origin)
    return page_of(rows, limit, key=lambda r: r["contract_id"])
