"""Events of quotes (services/order_sync): Sales & Order Management's CPQ output.

All travel on `order_sync.quotes.v1`, keyed by `quote_id`. A quote is drafted, may be revised
while Draft, and ends customer approved, rejected or expired (at the end of its valid-until date,
in its time zone, announced by the scheduler). `QuoteApproved` carries everything contracting
needs to open a request without retyping anything.
"""

import datetime as dt
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event
from shared.events.money import Currency

BillingFrequency = Literal["one_time", "monthly", "quarterly", "semi_annual", "annual"]
RiskTier = Literal["low", "medium", "high"]


class Account(BaseModel):
    account_id: str = Field(min_length=1, max_length=64, description="the CRM's account id")
    name: str = Field(min_length=1, max_length=200)


class QuoteLine(BaseModel):
    line_id: UUID
    sku: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=200, description="the product's name")
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal = Field(ge=0, description="list price per unit, in the quote's currency")
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    net_amount: Decimal = Field(description="quantity x unit price x (1 - discount), rounded to the currency's minor unit")


class DealFields(BaseModel):
    """What Legal routes on. `deal_size` and `max_discount_percent` are derived from the lines."""

    region: str = Field(min_length=1, max_length=32, examples=["EU"])
    industry: str = Field(min_length=1, max_length=64, examples=["manufacturing"])
    risk_tier: RiskTier
    data_residency: str = Field(min_length=1, max_length=32, examples=["EU"])
    deal_size: Decimal = Field(description="net total of the lines, in the quote's currency")
    max_discount_percent: Decimal


class QuoteTerms(BaseModel):
    number: str
    account: Account
    opportunity_id: str
    currency: Currency
    term_months: int = Field(gt=0, le=600)
    billing_frequency: BillingFrequency
    valid_until: dt.date
    time_zone: str = Field(description="IANA zone in which valid_until and the line dates are read")
    lines: list[QuoteLine] = Field(min_length=1)
    deal: DealFields


class _QuoteEvent(Event):
    topic = topics.ORDER_SYNC_QUOTES
    source = "/services/order_sync"
    key_field = "quote_id"
    quote_id: UUID


class QuoteDrafted(_QuoteEvent, QuoteTerms):
    """A quote was created in Draft."""

    event_type = "QuoteDrafted"


class QuoteRevised(_QuoteEvent, QuoteTerms):
    """A Draft quote's terms were replaced (the whole terms, derived fields recomputed)."""

    event_type = "QuoteRevised"


class QuoteApproved(_QuoteEvent, QuoteTerms):
    """The customer approved the quote: Draft -> Customer approved, immutable from now on.

    Carries the approved terms whole, so contracting opens a prefilled request from this event
    alone.
    """

    event_type = "QuoteApproved"
    approved_at: dt.datetime
    approved_by: str = Field(description="who recorded the customer's approval (JWT sub)")


class QuoteRejected(_QuoteEvent):
    """The customer rejected the quote: Draft -> Rejected (terminal)."""

    event_type = "QuoteRejected"
    rejected_at: dt.datetime
    reason: str = ""


class QuoteExpired(_QuoteEvent):
    """Its valid-until date ended while it was still Draft: Draft -> Expired (terminal)."""

    event_type = "QuoteExpired"
    valid_until: dt.date
    expired_at: dt.datetime
