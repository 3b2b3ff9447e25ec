"""REST resources of quotes: /api/v1/quotes, Sales & Order Management's CPQ output.

Every answer carries the whole quote and its version (also as ETag); send `If-Match: <version>`
to refuse a change with 409 if the quote moved on meanwhile. Net amounts, the deal size and the
largest discount are derived, never sent.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import (
    Amount, Cursor, Date, IfMatch, Limit, Page, answer_created, expected_version, page_of, replayed, with_version,
)
from shared.events.quotes import Account, BillingFrequency, QuoteTerms, RiskTier
from services.order_sync.application import quotes as use_cases
from services.order_sync.domain.quote import LineEntry, Quote, QuoteEntry, QuoteState

router = APIRouter(prefix="/quotes", tags=["quotes"])

# docs/design/contracting.md, "Roles": CPQ is Sales' (R).
may_change = require_roles(Role.SALES, Role.SALES_OPS)


class NewQuoteLine(BaseModel):
    line_id: UUID | None = Field(None, description="Client-chosen id; a random one when omitted")
    sku: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=200, description="the product's name")
    # Above 0 and up to 100 are the domain's rules (quote.quantity_not_positive,
    # quote.discount_out_of_range): a refusal names them, and the schema promises only what it checks.
    quantity: Amount
    unit_price: Amount = Field(description="list price per unit, in the quote's currency")
    discount_percent: Amount = Field(Decimal(0), description="0 to 100")
    start_date: Date | None = None
    end_date: Date | None = None

    def entry(self) -> LineEntry:
        return LineEntry(line_id=self.line_id or uuid4(), **self.model_dump(exclude={"line_id"}))


class QuoteFields(BaseModel):
    """The terms a client enters; the same for a new quote and a revision (which replaces them whole)."""

    number: str | None = Field(None, min_length=1, max_length=64,
                               description="Defaults to a number from the quote id; a revision without one keeps it")
    account: Account
    opportunity_id: str = Field(min_length=1, max_length=64, description="the CRM's opportunity id")
    currency: str = Field(pattern="^[A-Z]{3}$", description="ISO 4217 code", examples=["EUR"])
    term_months: int = Field(gt=0, le=600)
    billing_frequency: BillingFrequency
    valid_until: Date = Field(description="last day the quote can be approved, in its time zone")
    time_zone: str = Field("UTC", max_length=64, description="IANA zone in which valid_until and the line dates are read")
    region: str = Field(min_length=1, max_length=32, examples=["EU"])
    industry: str = Field(min_length=1, max_length=64, examples=["manufacturing"])
    risk_tier: RiskTier
    data_residency: str = Field(min_length=1, max_length=32, examples=["EU"])
    lines: list[NewQuoteLine] = Field(min_length=1, max_length=500)

    def entry(self, number: str) -> QuoteEntry:
        fields = self.model_dump(include=set(QuoteFields.model_fields) - {"number", "account", "lines"})
        return QuoteEntry(number=number, account=self.account, lines=tuple(line.entry() for line in self.lines), **fields)


class NewQuote(QuoteFields):
    quote_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")


class Rejection(BaseModel):
    reason: str = Field("", max_length=500)


class QuoteView(QuoteTerms):
    quote_id: UUID
    state: QuoteState
    version: int
    approved_at: dt.datetime | None
    approved_by: str | None
    rejected_at: dt.datetime | None
    rejection_reason: str
    expired_at: dt.datetime | None

    @classmethod
    def of(cls, q: Quote) -> "QuoteView":
        return cls(
            **dict(q.terms), quote_id=q.quote_id, state=q.state, version=q.version, approved_at=q.approved_at,
            approved_by=q.approved_by, rejected_at=q.rejected_at, rejection_reason=q.rejection_reason,
            expired_at=q.expired_at,
        )


class QuoteSummary(BaseModel):
    quote_id: UUID
    number: str
    account_id: str
    account_name: str
    opportunity_id: str
    currency: str
    deal_size: Decimal
    valid_until: dt.date
    time_zone: str
    state: QuoteState
    version: int


def _answer(response: Response, quote: Quote) -> QuoteView:
    with_version(response, quote.version)
    return QuoteView.of(quote)


Ctx = Annotated[ServiceContext, Depends(context)]
Changer = Annotated[Principal, Depends(may_change)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=QuoteView, responses=replayed(QuoteView))
async def draft_quote(body: NewQuote, response: Response, principal: Changer, ctx: Ctx) -> QuoteView:
    """Creates a quote in Draft. Retrying with the same `quote_id` and terms answers 200 with the
    quote as it is; other terms under that id are refused with 409 `quote.already_exists`."""
    quote_id = body.quote_id or uuid4()
    entry = body.entry(body.number or f"Q-{quote_id.hex[:10].upper()}")
    quote, is_new = await use_cases.draft_quote(ctx.uow(principal), ctx.clock, quote_id, entry)
    answer_created(response, f"/api/v1/quotes/{quote_id}", is_new)
    return _answer(response, quote)


@router.get("", response_model=Page[QuoteSummary], dependencies=[Depends(any_role)])
async def list_quotes(
    ctx: Ctx,
    state: Annotated[QuoteState | None, Query()] = None,
    account_id: Annotated[str | None, Query(max_length=64)] = None,
    opportunity_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    """Quotes by quote id, optionally of one state, account or opportunity."""
    rows = await use_cases.list_quotes(ctx.uow(), state=state, account_id=account_id, opportunity_id=opportunity_id,
                                       after=cursor, limit=limit)
    return page_of([QuoteSummary.model_validate(row, from_attributes=True) for row in rows], limit,
                   key=lambda q: q.quote_id)


@router.get("/{quote_id}", response_model=QuoteView, dependencies=[Depends(any_role)])
async def get_quote(quote_id: UUID, response: Response, ctx: Ctx) -> QuoteView:
    return _answer(response, await use_cases.get_quote(ctx.uow(), quote_id))


@router.put("/{quote_id}", response_model=QuoteView)
async def revise_quote(quote_id: UUID, body: QuoteFields, response: Response, principal: Changer, ctx: Ctx,
                       if_match: IfMatch = None) -> QuoteView:
    """Replaces a Draft quote's terms whole (net amounts and deal fields recomputed). An approved
    quote is immutable (409 `quote.approved_immutable`), a rejected or expired one terminal
    (409 `quote.terminal`), one past its valid-until date can only expire (409 `quote.validity_ended`)."""
    quote = await use_cases.revise_quote(ctx.uow(principal), ctx.clock, quote_id, body.entry(body.number or ""),
                                         expected_version(if_match))
    return _answer(response, quote)


@router.post("/{quote_id}/approval", response_model=QuoteView)
async def approve_quote(quote_id: UUID, response: Response, principal: Changer, ctx: Ctx,
                        if_match: IfMatch = None) -> QuoteView:
    """Records the customer's approval: Draft -> customer approved, publishing `QuoteApproved` with
    the whole terms. Refused once the quote's valid-until date has ended in its zone."""
    quote = await use_cases.approve_quote(ctx.uow(principal), ctx.clock, quote_id, principal.subject,
                                          expected_version(if_match))
    return _answer(response, quote)


@router.post("/{quote_id}/rejection", response_model=QuoteView)
async def reject_quote(quote_id: UUID, response: Response, principal: Changer, ctx: Ctx,
                       body: Rejection | None = None, if_match: IfMatch = None) -> QuoteView:
    """Records the customer's rejection: Draft -> rejected (terminal)."""
    quote = await use_cases.reject_quote(ctx.uow(principal), ctx.clock, quote_id, body.reason if body else "",
                                         expected_version(if_match))
    return _answer(response, quote)
