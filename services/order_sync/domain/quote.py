"""A quote: Sales & Order Management's CPQ output, from which contracting opens a request.

Draft -> customer approved | rejected | expired. Only a Draft quote changes; an approved one is
immutable (its terms are the contract's), rejected and expired ones are terminal. A quote expires
when the scheduler announces that its valid-until date has ended in its time zone
(QuoteValidityEnded); after that date it can be neither approved nor revised. Derived fields (net
amounts, deal size, largest discount) are computed here from what the client entered (pricing.py).
Rule names are in `rules`.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import is_time_zone
from shared.backbone.errors import ConflictingState, invalid
from shared.events.quotes import (
    Account,
    BillingFrequency,
    DealFields,
    QuoteApproved,
    QuoteDrafted,
    QuoteExpired,
    QuoteLine,
    QuoteRejected,
    QuoteRevised,
    QuoteTerms,
    RiskTier,
)
from services.order_sync.domain import rules
from services.order_sync.domain.pricing import HUNDRED, LARGEST, minor_unit, net_amount, total


class QuoteState(StrEnum):
    DRAFT = "draft"
    CUSTOMER_APPROVED = "customer_approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class LineEntry:
    """A line as the client enters it: no net amount, which is derived."""

    line_id: UUID
    sku: str
    product: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@dataclass(frozen=True)
class QuoteEntry:
    """A quote's terms as the client enters them: no deal size nor largest discount, which are derived."""

    number: str
    account: Account
    opportunity_id: str
    currency: str
    term_months: int
    billing_frequency: BillingFrequency
    valid_until: dt.date
    time_zone: str
    region: str
    industry: str
    risk_tier: RiskTier
    data_residency: str
    lines: tuple[LineEntry, ...] = field(default=())


def priced(entry: QuoteEntry) -> QuoteTerms:
    """The full terms: the entry checked line by line, net amounts and deal fields derived."""
    if minor_unit(entry.currency) is None:
        raise invalid(rules.QUOTE_CURRENCY_UNKNOWN,
                      f"{entry.currency!r} is not an ISO 4217 currency with a minor unit", "currency")
    if not is_time_zone(entry.time_zone):
        raise invalid(rules.QUOTE_TIME_ZONE_UNKNOWN, f"{entry.time_zone!r} is not an IANA time zone", "time_zone")
    if not entry.lines:
        raise invalid(rules.QUOTE_LINES_EMPTY, "a quote has at least one line", "lines")
    lines, seen = [], set()
    for i, line in enumerate(entry.lines):
        at = f"lines.{i}"
        if line.quantity <= 0:
            raise invalid(rules.QUOTE_QUANTITY_NOT_POSITIVE, f"quantity must be above 0, not {line.quantity}", f"{at}.quantity")
        if line.unit_price < 0:
            raise invalid(rules.QUOTE_UNIT_PRICE_NEGATIVE, f"unit price must be 0 or more, not {line.unit_price}", f"{at}.unit_price")
        for name in ("quantity", "unit_price"):
            if getattr(line, name) >= LARGEST:
                raise invalid(rules.QUOTE_AMOUNT_TOO_LARGE, f"{name} must be below {LARGEST:,}", f"{at}.{name}")
        if not 0 <= line.discount_percent <= HUNDRED:
            raise invalid(rules.QUOTE_DISCOUNT_OUT_OF_RANGE,
                          f"discount must be 0 to 100 percent, not {line.discount_percent}", f"{at}.discount_percent")
        if line.start_date and line.end_date and line.end_date < line.start_date:
            raise invalid(rules.QUOTE_LINE_DATES, f"end date {line.end_date} is before start date {line.start_date}",
                          f"{at}.end_date")
        if line.line_id in seen:
            raise invalid(rules.QUOTE_LINE_DUPLICATE_ID, f"line {line.line_id} appears twice", f"{at}.line_id")
        seen.add(line.line_id)
        lines.append(QuoteLine(
            line_id=line.line_id, sku=line.sku, product=line.product, quantity=line.quantity,
            unit_price=line.unit_price, discount_percent=line.discount_percent, start_date=line.start_date,
            end_date=line.end_date,
            net_amount=net_amount(line.quantity, line.unit_price, line.discount_percent, entry.currency),
        ))
    deal = DealFields(
        region=entry.region, industry=entry.industry, risk_tier=entry.risk_tier, data_residency=entry.data_residency,
        deal_size=total([line.net_amount for line in lines], entry.currency),
        max_discount_percent=max(line.discount_percent for line in lines),
    )
    return QuoteTerms(
        number=entry.number, account=entry.account, opportunity_id=entry.opportunity_id, currency=entry.currency,
        term_months=entry.term_months, billing_frequency=entry.billing_frequency, valid_until=entry.valid_until,
        time_zone=entry.time_zone, lines=lines, deal=deal,
    )


def _terms_of(event: QuoteTerms) -> QuoteTerms:
    return QuoteTerms(**{name: getattr(event, name) for name in QuoteTerms.model_fields})


def _date_in(now: dt.datetime, time_zone: str) -> dt.date:
    return now.astimezone(ZoneInfo(time_zone)).date()


class Quote(Aggregate):
    stream_type = "quote"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.state = QuoteState.DRAFT
        self.terms: QuoteTerms | None = None
        self.drafted_terms: QuoteTerms | None = None  # what a retried create is compared with
        self.approved_at: dt.datetime | None = None
        self.approved_by: str | None = None
        self.rejected_at: dt.datetime | None = None
        self.rejection_reason = ""
        self.expired_at: dt.datetime | None = None

    @property
    def quote_id(self) -> UUID:
        return UUID(self.id)

    @classmethod
    def draft(cls, quote_id: UUID, entry: QuoteEntry, now: dt.datetime) -> "Quote":
        terms = priced(entry)
        _check_valid_until(terms, now)
        quote = cls(str(quote_id))
        quote.record(QuoteDrafted(quote_id=quote_id, **dict(terms)))
        return quote

    def revise(self, entry: QuoteEntry, now: dt.datetime) -> None:
        """Replaces the terms whole. The same terms again record nothing."""
        self._refuse_unless_draft("revised")
        self._refuse_if_validity_ended(now, "revised")
        terms = priced(entry)
        _check_valid_until(terms, now)
        if terms != self.terms:
            self.record(QuoteRevised(quote_id=self.quote_id, **dict(terms)))

    def approve(self, now: dt.datetime, by: str) -> None:
        self._refuse_unless_draft("approved")
        self._refuse_if_validity_ended(now, "approved")
        self.record(QuoteApproved(quote_id=self.quote_id, **dict(self.terms), approved_at=now, approved_by=by))

    def reject(self, now: dt.datetime, reason: str = "") -> None:
        self._refuse_unless_draft("rejected")
        self.record(QuoteRejected(quote_id=self.quote_id, rejected_at=now, reason=reason))

    def expire(self, ended: dt.date, at: dt.datetime) -> None:
        """The scheduler says the date `ended` has ended in the quote's zone: a Draft quote valid
        until then expires. Anything else (already ended, valid longer since a revision) stays."""
        if self.state == QuoteState.DRAFT and self.terms.valid_until <= ended:
            self.record(QuoteExpired(quote_id=self.quote_id, valid_until=self.terms.valid_until, expired_at=at))

    def _refuse_unless_draft(self, what: str) -> None:
        if self.state == QuoteState.CUSTOMER_APPROVED:
            raise ConflictingState(rules.QUOTE_APPROVED_IMMUTABLE,
                                   f"quote {self.terms.number} was approved by the customer and cannot be {what}")
        if self.state != QuoteState.DRAFT:
            raise ConflictingState(rules.QUOTE_TERMINAL, f"quote {self.terms.number} is {self.state} and cannot be {what}")

    def _refuse_if_validity_ended(self, now: dt.datetime, what: str) -> None:
        if _date_in(now, self.terms.time_zone) > self.terms.valid_until:
            raise ConflictingState(rules.QUOTE_VALIDITY_ENDED,
                                   f"quote {self.terms.number} was valid until {self.terms.valid_until} and cannot be {what}",
                                   "valid_until")

    @applies
    def _on_drafted(self, event: QuoteDrafted) -> None:
        self.terms = self.drafted_terms = _terms_of(event)

    @applies
    def _on_revised(self, event: QuoteRevised) -> None:
        self.terms = _terms_of(event)

    @applies
    def _on_approved(self, event: QuoteApproved) -> None:
        self.state, self.approved_at, self.approved_by = QuoteState.CUSTOMER_APPROVED, event.approved_at, event.approved_by

    @applies
    def _on_rejected(self, event: QuoteRejected) -> None:
        self.state, self.rejected_at, self.rejection_reason = QuoteState.REJECTED, event.rejected_at, event.reason

    @applies
    def _on_expired(self, event: QuoteExpired) -> None:
        self.state, self.expired_at = QuoteState.EXPIRED, event.expired_at


def _check_valid_until(terms: QuoteTerms, now: dt.datetime) -> None:
    today = _date_in(now, terms.time_zone)
    if terms.valid_until < today:
        raise invalid(rules.QUOTE_VALID_UNTIL_PAST, f"valid until {terms.valid_until} is before today ({today} in "
                                                    f"{terms.time_zone})", "valid_until")
