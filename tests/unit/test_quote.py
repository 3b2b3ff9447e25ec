"""The quote's rules (services/order_sync/domain/quote.py, pricing.py), pure: derived amounts, the
refusals of bad input naming field and rule, and Draft -> customer approved | rejected | expired."""

import datetime as dt
import uuid
from decimal import Decimal, localcontext

import pytest

from shared.backbone.errors import DomainError, RuleKind
from shared.events.quotes import Account, QuoteApproved, QuoteDrafted, QuoteExpired, QuoteRejected, QuoteRevised
from services.order_sync.domain import rules
from services.order_sync.domain.pricing import minor_unit, net_amount
from services.order_sync.domain.quote import LineEntry, Quote, QuoteEntry, QuoteState

D = Decimal
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
VALID_UNTIL = dt.date(2026, 12, 31)


def line(**overrides) -> LineEntry:
    fields = dict(line_id=uuid.uuid4(), sku="SUP-PREM", product="Premium support", quantity=D(2),
                  unit_price=D("1200.00"), discount_percent=D(10))
    return LineEntry(**{**fields, **overrides})


def entry(*lines: LineEntry, **overrides) -> QuoteEntry:
    fields = dict(number="Q-1", account=Account(account_id="ACC-77", name="ACME Robotics"), opportunity_id="OPP-1",
                  currency="EUR", term_months=36, billing_frequency="annual", valid_until=VALID_UNTIL,
                  time_zone="Europe/Berlin", region="EU", industry="manufacturing", risk_tier="high",
                  data_residency="EU", lines=lines or (line(),))
    return QuoteEntry(**{**fields, **overrides})


def drafted(**overrides) -> Quote:
    quote = Quote.draft(uuid.uuid4(), entry(**overrides), NOW)
    quote.mark_persisted()
    return quote


def refused(call, rule: str, field: str | None = None, kind: RuleKind = RuleKind.INVALID) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    assert (raised.value.rule, raised.value.kind) == (rule, kind), raised.value
    if field:
        assert raised.value.field == field
    return raised.value


# -- prices -----------------------------------------------------------------------------------


@pytest.mark.parametrize("currency, quantity, price, discount, net", [
    ("EUR", "2", "1200.00", "10", "2160.00"),
    ("EUR", "3", "0.333", "0", "1.00"),       # 0.999 rounds up
    ("EUR", "1", "0.125", "0", "0.13"),       # half up, not half even
    ("JPY", "3", "333.5", "10", "900"),       # 900.45: no minor unit
    ("JPY", "1", "0.5", "0", "1"),
    ("KWD", "1", "10.0005", "0", "10.001"),   # three decimals
    ("CLF", "1", "1.23456", "0", "1.2346"),   # four
    ("EUR", "5", "99.99", "100", "0.00"),
])
def test_a_net_amount_is_rounded_half_up_to_the_currencys_minor_unit(currency, quantity, price, discount, net):
    assert net_amount(D(quantity), D(price), D(discount), currency) == D(net)
    assert str(net_amount(D(quantity), D(price), D(discount), currency)) == net


def test_the_largest_quote_prices_exactly():
    big = tuple(line(quantity=D("999999999999.999"), unit_price=D("999999999999.99"), discount_percent=D("0.0001"))
                for _ in range(500))
    quote = Quote.draft(uuid.uuid4(), entry(*big, currency="CLF"), NOW)
    with localcontext(prec=60):
        net = D("999999999999.999") * D("999999999999.99") * D("99.9999") / 100
    assert quote.terms.lines[0].net_amount == net.quantize(D("0.0001"))
    assert quote.terms.deal.deal_size == 500 * quote.terms.lines[0].net_amount


def test_minor_units_come_from_iso_4217():
    assert [minor_unit(c) for c in ("EUR", "USD", "JPY", "KRW", "BHD", "TND", "CLF")] == [2, 2, 0, 0, 3, 3, 4]
    assert minor_unit("XAU") is None and minor_unit("XXX") is None and minor_unit("ABC") is None and minor_unit("eur") is None


def test_deal_size_and_largest_discount_are_derived_from_the_lines():
    quote = Quote.draft(uuid.uuid4(), entry(line(), line(quantity=D(1), unit_price=D("500"), discount_percent=D("25.5"))), NOW)
    [event] = quote.pending_events
    assert isinstance(event, QuoteDrafted)
    assert [l.net_amount for l in event.lines] == [D("2160.00"), D("372.50")]
    assert event.deal.deal_size == D("2532.50") and event.deal.max_discount_percent == D("25.5")
    assert (event.deal.region, event.deal.risk_tier, event.deal.data_residency) == ("EU", "high", "EU")
    assert quote.state == QuoteState.DRAFT and quote.terms.deal.deal_size == D("2532.50")


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, rule, field", [
    (dict(currency="EURO"), rules.QUOTE_CURRENCY_UNKNOWN, "currency"),
    (dict(currency="XYZ"), rules.QUOTE_CURRENCY_UNKNOWN, "currency"),
    (dict(currency="XAU"), rules.QUOTE_CURRENCY_UNKNOWN, "currency"),  # gold has no minor unit
    (dict(time_zone="Mars/Olympus_Mons"), rules.QUOTE_TIME_ZONE_UNKNOWN, "time_zone"),
    (dict(valid_until=dt.date(2026, 11, 30)), rules.QUOTE_VALID_UNTIL_PAST, "valid_until"),
    (dict(lines=()), rules.QUOTE_LINES_EMPTY, "lines"),
    (dict(lines=(line(), line(quantity=D(0)))), rules.QUOTE_QUANTITY_NOT_POSITIVE, "lines.1.quantity"),
    (dict(lines=(line(quantity=D(-1)),)), rules.QUOTE_QUANTITY_NOT_POSITIVE, "lines.0.quantity"),
    (dict(lines=(line(unit_price=D("-0.01")),)), rules.QUOTE_UNIT_PRICE_NEGATIVE, "lines.0.unit_price"),
    (dict(lines=(line(quantity=D(10) ** 12),)), rules.QUOTE_AMOUNT_TOO_LARGE, "lines.0.quantity"),
    (dict(lines=(line(unit_price=D("1e12")),)), rules.QUOTE_AMOUNT_TOO_LARGE, "lines.0.unit_price"),
    (dict(lines=(line(discount_percent=D("100.01")),)), rules.QUOTE_DISCOUNT_OUT_OF_RANGE, "lines.0.discount_percent"),
    (dict(lines=(line(discount_percent=D(-5)),)), rules.QUOTE_DISCOUNT_OUT_OF_RANGE, "lines.0.discount_percent"),
    (dict(lines=(line(start_date=dt.date(2027, 2, 1), end_date=dt.date(2027, 1, 31)),)), rules.QUOTE_LINE_DATES,
     "lines.0.end_date"),
])
def test_bad_input_is_refused_naming_field_and_rule(bad, rule, field):
    refused(lambda: Quote.draft(uuid.uuid4(), entry(**bad), NOW), rule, field)


def test_line_ids_are_unique_and_one_day_lines_and_today_are_fine():
    same = line()
    refused(lambda: Quote.draft(uuid.uuid4(), entry(same, same), NOW), rules.QUOTE_LINE_DUPLICATE_ID, "lines.1.line_id")
    one_day = line(start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 1, 1))
    assert Quote.draft(uuid.uuid4(), entry(one_day, valid_until=dt.date(2026, 12, 1)), NOW).state == QuoteState.DRAFT


def test_valid_until_is_read_in_the_quotes_zone():
    late = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)  # already 2 December in Berlin, still 1 December in UTC
    refused(lambda: Quote.draft(uuid.uuid4(), entry(valid_until=dt.date(2026, 12, 1)), late), rules.QUOTE_VALID_UNTIL_PAST)
    assert Quote.draft(uuid.uuid4(), entry(valid_until=dt.date(2026, 12, 1), time_zone="UTC"), late)


# -- the life cycle ---------------------------------------------------------------------------


def test_approval_publishes_every_term_with_who_and_when():
    quote = drafted()
    quote.approve(NOW, "sales-ann")
    [event] = quote.pending_events
    assert isinstance(event, QuoteApproved) and event.quote_id == quote.quote_id
    assert {k: v for k, v in dict(event).items() if k not in ("quote_id", "approved_at", "approved_by")} == dict(quote.terms)
    assert (event.approved_at, event.approved_by) == (NOW, "sales-ann")
    assert quote.state == QuoteState.CUSTOMER_APPROVED


def test_an_approved_quote_is_immutable():
    quote = drafted()
    quote.approve(NOW, "sales-ann")
    for change in (lambda: quote.revise(entry(term_months=12), NOW), lambda: quote.approve(NOW, "x"),
                   lambda: quote.reject(NOW, "late")):
        refused(change, rules.QUOTE_APPROVED_IMMUTABLE, kind=RuleKind.CONFLICT)
    quote.expire(VALID_UNTIL, NOW)
    assert quote.state == QuoteState.CUSTOMER_APPROVED and len(quote.pending_events) == 1


@pytest.mark.parametrize("end", ["reject", "expire"])
def test_rejected_and_expired_quotes_are_terminal(end):
    quote = drafted()
    quote.reject(NOW, "budget cut") if end == "reject" else quote.expire(VALID_UNTIL, NOW)
    assert quote.state == (QuoteState.REJECTED if end == "reject" else QuoteState.EXPIRED)
    for change in (lambda: quote.revise(entry(), NOW), lambda: quote.approve(NOW, "x"), lambda: quote.reject(NOW)):
        refused(change, rules.QUOTE_TERMINAL, kind=RuleKind.CONFLICT)


def test_a_revision_replaces_the_terms_and_the_same_terms_record_nothing():
    quote = drafted()
    quote.revise(entry(line(quantity=D(4)), number="Q-1"), NOW)
    [event] = quote.pending_events
    assert isinstance(event, QuoteRevised) and event.deal.deal_size == D("4320.00")
    quote.mark_persisted()
    same = tuple(LineEntry(l.line_id, l.sku, l.product, l.quantity, l.unit_price, l.discount_percent)
                 for l in quote.terms.lines)
    quote.revise(entry(lines=same), NOW)
    assert quote.pending_events == []
    refused(lambda: quote.revise(entry(valid_until=dt.date(2026, 11, 1)), NOW), rules.QUOTE_VALID_UNTIL_PAST, "valid_until")


def test_after_its_valid_until_date_a_draft_can_only_be_rejected_or_expire():
    quote = drafted()
    after = dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)  # midnight in Berlin: 1 January there
    refused(lambda: quote.approve(after, "x"), rules.QUOTE_VALIDITY_ENDED, "valid_until", RuleKind.CONFLICT)
    refused(lambda: quote.revise(entry(valid_until=dt.date(2027, 3, 1)), after), rules.QUOTE_VALIDITY_ENDED,
            kind=RuleKind.CONFLICT)
    quote.approve(after - dt.timedelta(microseconds=1), "x")  # the last instant of 31 December in Berlin
    assert quote.state == QuoteState.CUSTOMER_APPROVED


def test_expiry_applies_to_the_date_that_ended_once():
    quote = drafted()
    quote.expire(dt.date(2026, 12, 30), NOW)  # an earlier date's end (since revised): not this quote's
    assert quote.pending_events == []
    ended_at = dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)
    quote.expire(VALID_UNTIL, ended_at)
    quote.expire(VALID_UNTIL, ended_at)
    [event] = quote.pending_events
    assert event == QuoteExpired(quote_id=quote.quote_id, valid_until=VALID_UNTIL, expired_at=ended_at)
    history = [QuoteDrafted(quote_id=quote.quote_id, **dict(quote.drafted_terms)), event]
    assert Quote.rehydrate(quote.id, history).state == QuoteState.EXPIRED


def test_rejection_keeps_its_reason():
    quote = drafted()
    quote.reject(NOW, "budget cut")
    [event] = quote.pending_events
    assert event == QuoteRejected(quote_id=quote.quote_id, rejected_at=NOW, reason="budget cut")
    assert quote.rejection_reason == "budget cut"
