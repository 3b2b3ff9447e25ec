"""Renewal terms (phase 7, clm): the period arithmetic of services/clm/domain/renewal_terms.py against
an independent oracle (integer month arithmetic, calendar.monthrange, date ordinals: no relativedelta),
hypothesis over random terms, notice periods, lead times, renewal counts and zones; the examples the
issue names; and the contract's commands (set, renewal once per period end, notice, acknowledgement)."""

import calendar
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.backbone.errors import DomainError, RuleKind
from shared.events.contracts import ContractDrafted, ContractRequestEnriched, Party
from shared.events.renewal_terms import (
    ContractRenewed, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet, TerminationNoticeGiven,
)
from services.clm.domain import rules
from services.clm.domain.contract import Contract
from services.clm.domain.contract.readiness import CatalogueCopy
from services.clm.domain.renewal_terms import (
    Duration, Terms, derived_initial_term, next_possible_end, parse_duration, period, periods, start_of_day,
)
from tests.activation_story import GOLD, ONSITE, START, executed_contract

D = dt.date
AT = dt.datetime(2027, 1, 1, 9, tzinfo=dt.UTC)
CATALOGUE = {"SUP-PREM": CatalogueCopy("SUP-PREM", 1, "Premium support", GOLD),
             "ONSITE": CatalogueCopy("ONSITE", 1, "Onsite service", ONSITE)}
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", "America/Havana",
         "Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Lord_Howe", "America/Santiago"]


# -- the oracle ------------------------------------------------------------------------------------

def add_months(date: dt.date, months: int) -> dt.date:
    index = date.year * 12 + (date.month - 1) + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(date.day, calendar.monthrange(year, month + 1)[1]))


def add_days(date: dt.date, days: int) -> dt.date:
    return dt.date.fromordinal(date.toordinal() + days)


def shift(date: dt.date, months: int, days: int, sign: int = 1) -> dt.date:
    """Months first (clamped to the month's last day), then days: the rule's order."""
    return add_days(add_months(date, sign * months), sign * days)


def oracle(start, initial, renewal, notice, lead, number):
    """(start, end, notice deadline, cancel-by) of period `number`; durations as (months, days)."""
    def starts(k):
        if k == 1:
            return start
        return shift(start, initial[0] + (k - 2) * renewal[0], initial[1] + (k - 2) * renewal[1])
    end = add_days(starts(number + 1), -1)
    deadline = shift(end, *notice, sign=-1)
    return starts(number), end, deadline, shift(deadline, *lead, sign=-1)


# -- the strategies ------------------------------------------------------------------------------

@st.composite
def durations(draw, least: int = 0):
    """(ISO text, months, days): years, months, years and months, weeks or days."""
    kind = draw(st.sampled_from(["Y", "M", "YM", "W", "D"]))
    if kind == "Y":
        n = draw(st.integers(max(least, 1) if least else 0, 5))
        return f"P{n}Y", 12 * n, 0
    if kind == "M":
        n = draw(st.integers(least, 40))
        return f"P{n}M", n, 0
    if kind == "YM":
        y, m = draw(st.integers(1, 3)), draw(st.integers(1, 11))
        return f"P{y}Y{m}M", 12 * y + m, 0
    if kind == "W":
        n = draw(st.integers(least, 60))
        return f"P{n}W", 0, 7 * n
    n = draw(st.integers(least, 800))
    return f"P{n}D", 0, n


MONTH_ENDS = st.sampled_from([D(2027, 1, 31), D(2028, 2, 29), D(2028, 1, 31), D(2027, 2, 28), D(2027, 4, 30),
                              D(2027, 8, 31), D(2024, 2, 29), D(2027, 12, 31), D(2027, 1, 1)])
STARTS = st.one_of(MONTH_ENDS, st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)))


def terms_of(initial, renewal, notice, lead, kind="tacit", max_renewals=None) -> Terms:
    return Terms.of(RenewalTerms(initial_term=initial, renewal_term=renewal, renewal=kind, notice_period=notice,
                                 lead_time=lead, max_renewals=max_renewals, owners=["ann"]))


@settings(max_examples=400, deadline=None)
@given(start=STARTS, initial=durations(least=1), renewal=durations(least=1), notice=durations(), lead=durations(),
       renewals=st.integers(1, 10))
def test_every_period_matches_the_oracle(start, initial, renewal, notice, lead, renewals):
    terms = terms_of(initial[0], renewal[0], notice[0], lead[0])
    listed = periods(terms, start, renewals + 1)
    assert [p.number for p in listed] == list(range(1, renewals + 2))
    for p in listed:
        expected = oracle(start, initial[1:], renewal[1:], notice[1:], lead[1:], p.number)
        assert (p.start_date, p.end_date, p.notice_deadline, p.cancel_by) == expected
        assert period(terms, start, p.number) == p
    for before, after in zip(listed, listed[1:]):
        assert add_days(before.end_date, 1) == after.start_date  # contiguous, inclusive ends
    for p in listed:
        assert p.cancel_by <= p.notice_deadline <= p.end_date


@settings(max_examples=200, deadline=None)
@given(start=STARTS, months=st.integers(1, 24), renewals=st.integers(1, 10))
def test_monthly_anchored_starts_never_drift_to_a_shorter_month_s_day(start, months, renewals):
    terms = terms_of(f"P{months}M", None, "P0D", "P0D")
    for p in periods(terms, start, renewals + 1):
        last = calendar.monthrange(p.start_date.year, p.start_date.month)[1]
        assert p.start_date.day == min(start.day, last)


@settings(max_examples=200, deadline=None)
@given(start=STARTS, max_renewals=st.integers(0, 10), asked=st.integers(1, 15))
def test_max_renewals_bounds_the_periods_and_express_terms_have_one(start, max_renewals, asked):
    tacit = terms_of("P12M", None, "P90D", "P30D", max_renewals=max_renewals)
    assert len(periods(tacit, start, asked)) == min(asked, 1 + max_renewals)
    with pytest.raises(ValueError):
        period(tacit, start, 2 + max_renewals)
    assert [p.number for p in periods(terms_of("P12M", None, "P90D", "P0D", kind="express"), start, asked)] == [1]


@settings(max_examples=300, deadline=None)
@given(date=st.dates(min_value=D(1970, 1, 1), max_value=D(2100, 12, 31)), zone=st.sampled_from(ZONES))
def test_a_date_is_reached_at_the_first_instant_of_that_day_in_the_zone(date, zone):
    reached = start_of_day(date, zone)
    assert reached.tzinfo is not None
    assert reached.astimezone(ZoneInfo(zone)).date() == date
    assert (reached - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).date() < date


@settings(max_examples=200, deadline=None)
@given(start=STARTS, initial=durations(least=1))
def test_the_derived_initial_term_ends_on_the_contract_s_end(start, initial):
    end = oracle(start, initial[1:], initial[1:], (0, 0), (0, 0), 1)[1]
    derived = derived_initial_term(start, end)
    assert period(terms_of(derived, None, "P0D", "P0D"), start, 1).end_date == end


# -- the examples ----------------------------------------------------------------------------------

def test_the_e2e_case_periods_1_and_3_of_a_tacit_year_with_90_days_notice_and_30_days_lead():
    terms = terms_of("P12M", "P12M", "P90D", "P30D")
    first, _, third = periods(terms, D(2027, 1, 1), 3)
    assert (first.end_date, first.notice_deadline, first.cancel_by) == (D(2027, 12, 31), D(2027, 10, 2), D(2027, 9, 2))
    assert (third.start_date, third.end_date, third.notice_deadline, third.cancel_by) == (
        D(2029, 1, 1), D(2029, 12, 31), D(2029, 10, 2), D(2029, 9, 2))


def test_a_monthly_term_starting_31_january_keeps_its_month_ends():
    listed = periods(terms_of("P1M", None, "P1M", "P0D"), D(2027, 1, 31), 5)
    assert [p.start_date for p in listed] == [D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 31), D(2027, 4, 30),
                                              D(2027, 5, 31)]
    assert [p.end_date for p in listed] == [D(2027, 2, 27), D(2027, 3, 30), D(2027, 4, 29), D(2027, 5, 30),
                                            D(2027, 6, 29)]
    assert listed[1].notice_deadline == D(2027, 2, 28)  # 30 March minus a month
    assert listed[0].notice_deadline == D(2027, 1, 27)


def test_a_yearly_term_starting_31_january_and_one_starting_on_a_leap_day():
    jan = periods(terms_of("P1Y", None, "P3M", "P0D"), D(2027, 1, 31), 3)
    assert [(p.start_date, p.end_date) for p in jan] == [
        (D(2027, 1, 31), D(2028, 1, 30)), (D(2028, 1, 31), D(2029, 1, 30)), (D(2029, 1, 31), D(2030, 1, 30))]
    assert jan[0].notice_deadline == D(2027, 10, 30)
    leap = periods(terms_of("P1Y", None, "P1M", "P7D"), D(2028, 2, 29), 5)
    assert [p.start_date for p in leap] == [D(2028, 2, 29), D(2029, 2, 28), D(2030, 2, 28), D(2031, 2, 28),
                                            D(2032, 2, 29)]  # anchored: back on the 29th in the next leap year
    assert (leap[0].end_date, leap[0].notice_deadline, leap[0].cancel_by) == (D(2029, 2, 27), D(2029, 1, 27),
                                                                                D(2029, 1, 20))
    assert leap[3].end_date == D(2032, 2, 28)


@pytest.mark.parametrize("text,expected", [
    ("P12M", Duration(12, 0)), ("P1Y", Duration(12, 0)), ("P1Y6M", Duration(18, 0)), ("P90D", Duration(0, 90)),
    ("P2W", Duration(0, 14)), ("P0D", Duration(0, 0)), ("p3m", Duration(3, 0)),
])
def test_durations_in_years_months_weeks_and_days(text, expected):
    assert parse_duration(text, "notice_period") == expected


@pytest.mark.parametrize("text", ["PT1H", "P1DT2H", "P1.5Y", "-P1D", "P", "12M", "", "P1M-1D", "twelve months"])
def test_other_durations_are_refused_naming_the_field(text):
    with pytest.raises(DomainError) as refused:
        parse_duration(text, "notice_period")
    assert (refused.value.rule, refused.value.field, refused.value.kind) == (
        rules.RENEWAL_DURATION_INVALID, "notice_period", RuleKind.INVALID)


def test_next_possible_end_is_the_first_later_period_whose_deadline_is_to_come():
    terms = terms_of("P12M", None, "P90D", "P30D")
    later = next_possible_end(terms, D(2027, 1, 1), 1, D(2027, 10, 3))
    assert (later.number, later.end_date, later.notice_deadline) == (2, D(2028, 12, 31), D(2028, 10, 2))
    assert next_possible_end(terms_of("P12M", None, "P90D", "P0D", max_renewals=0), D(2027, 1, 1), 1,
                             D(2027, 10, 3)) is None


# -- the contract ----------------------------------------------------------------------------------

TACIT = {"initial_term": "P12M", "renewal": "tacit", "notice_period": "P90D", "lead_time": "P30D",
         "owners": ["ann@example.com", "role:sales"]}


def drafted(start=D(2027, 1, 1), end=D(2027, 12, 31), zone="Europe/Berlin") -> Contract:
    return Contract.draft(uuid.uuid4(), number="CNT-1", title="Support", contract_model="service_contract",
                          parties=[Party(role="customer", name="ACME")], start_date=start, end_date=end, time_zone=zone)


def fresh(contract: Contract) -> Contract:
    """As loaded from its stream: what the commands recorded so far is history, pending nothing."""
    return Contract.rehydrate(contract.id, contract.pending_events)


def active(terms=TACIT, **dates) -> Contract:
    contract = drafted(**dates)
    contract.set_renewal_terms(terms, by="cm", at=AT)
    contract.activate(AT)
    return fresh(contract)


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value


def test_terms_set_in_draft_give_the_first_period_and_the_same_terms_again_record_nothing():
    contract = drafted()
    contract.set_renewal_terms(TACIT, by="cm", at=AT)
    contract.set_renewal_terms(TACIT, by="cm", at=AT)
    [_, set_] = contract.pending_events
    assert isinstance(set_, RenewalTermsSet) and (set_.origin, set_.set_by, set_.time_zone) == ("manual", "cm",
                                                                                              "Europe/Berlin")
    assert (set_.period.number, set_.period.end_date, set_.period.notice_deadline, set_.period.cancel_by) == (
        1, D(2027, 12, 31), D(2027, 10, 2), D(2027, 9, 2))
    assert set_.terms.reminder_offsets_days == [90, 60, 30, 0]


def test_without_an_initial_term_the_contract_s_dates_give_it_and_a_wrong_one_is_refused():
    contract = drafted(start=D(2027, 1, 31), end=D(2028, 1, 30))
    contract.set_renewal_terms({**TACIT, "initial_term": None}, by="cm", at=AT)
    assert contract.renewal.terms.initial_term == "P12M"
    wrong = refusal(lambda: contract.set_renewal_terms({**TACIT, "initial_term": "P6M"}, by="cm", at=AT))
    assert (wrong.rule, wrong.field, wrong.kind) == (rules.RENEWAL_INITIAL_TERM_MISMATCH, "initial_term", RuleKind.INVALID)
    bad = refusal(lambda: contract.set_renewal_terms({**TACIT, "notice_period": "P3MT1H"}, by="cm", at=AT))
    assert (bad.rule, bad.field) == (rules.RENEWAL_DURATION_INVALID, "notice_period")


def test_after_activation_renewal_terms_lock():
    contract = active()
    locked = refusal(lambda: contract.set_renewal_terms({**TACIT, "notice_period": "P30D"}, by="cm", at=AT))
    assert (locked.rule, locked.kind) == (rules.RENEWAL_LOCKED_AFTER_ACTIVATION, RuleKind.CONFLICT)


def test_a_contract_activated_without_terms_gets_express_terms_from_its_dates():
    contract = drafted()
    contract.activate(AT)
    derived = contract.pending_events[-1]
    assert isinstance(derived, RenewalTermsSet) and derived.origin == "executed_terms"
    assert (derived.terms.initial_term, derived.terms.renewal, derived.terms.notice_period, derived.terms.owners) == (
        "P12M", "express", "P0D", [rules.RENEWAL_DEFAULT_OWNER])


def test_a_tacit_contract_renews_once_per_period_end_until_its_renewals_are_used():
    contract = active({**TACIT, "max_renewals": 2})
    assert contract.period_ended(1, at=AT) is True
    assert contract.period_ended(1, at=AT) is False  # redelivered
    assert contract.period_ended(3, at=AT) is False  # not the current period
    assert contract.period_ended(2, at=AT) is True
    assert contract.period_ended(3, at=AT) is False  # renewals used up
    first, second = contract.pending_events
    assert isinstance(first, ContractRenewed) and (first.renewals, first.previous_end_date) == (1, D(2027, 12, 31))
    assert (second.renewals, second.period.number, second.period.end_date, second.period.cancel_by) == (
        2, 3, D(2029, 12, 31), D(2029, 9, 2))
    assert contract.current_period == second.period and contract.renewals == 2


def test_an_express_contract_and_one_with_notice_do_not_renew():
    assert active({**TACIT, "renewal": "express"}).period_ended(1, at=AT) is False
    contract = active()
    contract.give_termination_notice(given_on=D(2027, 10, 2), reason="budget", by="cm", at=AT)
    assert contract.period_ended(1, at=AT) is False
    [notice] = contract.pending_events
    assert isinstance(notice, TerminationNoticeGiven)
    assert (notice.period_number, notice.end_date, notice.given_on, notice.reason) == (1, D(2027, 12, 31),
                                                                                        D(2027, 10, 2), "budget")


def test_a_notice_after_the_deadline_is_refused_naming_it_and_the_next_possible_end():
    contract = active()
    late = refusal(lambda: contract.give_termination_notice(given_on=D(2027, 10, 3), reason=None, by="cm", at=AT))
    assert (late.rule, late.kind) == (rules.TERMINATION_AFTER_NOTICE_DEADLINE, RuleKind.CONFLICT)
    assert "2027-10-02" in late.message
    assert late.extra == {"notice_deadline": "2027-10-02", "next_possible_end": "2028-12-31"}
    contract.period_ended(1, at=AT)
    contract.give_termination_notice(given_on=D(2028, 1, 5), reason=None, by="cm", at=AT)
    assert contract.notice.end_date == D(2028, 12, 31)
    again = refusal(lambda: contract.give_termination_notice(given_on=D(2028, 1, 6), reason=None, by="cm", at=AT))
    assert again.rule == rules.TERMINATION_ALREADY_GIVEN


def test_notice_needs_an_active_contract():
    contract = drafted()
    contract.set_renewal_terms(TACIT, by="cm", at=AT)
    assert refusal(lambda: contract.give_termination_notice(given_on=D(2027, 1, 1), reason=None, by="cm",
                                                            at=AT)).rule == rules.TERMINATION_NOT_ACTIVE


def test_a_reminder_is_acknowledged_once_per_period_and_anchor_by_its_owners():
    contract = active()
    assert contract.acknowledge_reminder(period_number=1, anchor="cancel_by", note="on it", by="ann", at=AT) is True
    assert contract.acknowledge_reminder(period_number=1, anchor="cancel_by", note="again", by="bob", at=AT) is False
    assert contract.acknowledge_reminder(period_number=1, anchor="end", note=None, by="ann", at=AT) is True
    [ack, _] = contract.pending_events
    assert isinstance(ack, RenewalReminderAcknowledged) and (ack.anchor, ack.note, ack.acknowledged_by) == (
        "cancel_by", "on it", "ann")
    unknown = refusal(lambda: contract.acknowledge_reminder(period_number=2, anchor="end", note=None, by="ann", at=AT))
    assert (unknown.rule, unknown.field) == (rules.REMINDER_PERIOD_UNKNOWN, "period_number")
    assert contract.is_renewal_owner("ANN@example.com", frozenset())
    assert contract.is_renewal_owner("bob", frozenset({"sales"}))
    assert not contract.is_renewal_owner("bob", frozenset({"finance"}))


def test_terms_set_on_a_request_follow_the_executed_dates_at_activation():
    """A request with a desired start and a term has dates before it is drafted; drafted and signed
    for another start, the terms are recorded again for the dates signed (the same terms otherwise)."""
    scene = executed_contract().pending_events
    drafting = next(i for i, e in enumerate(scene) if isinstance(e, ContractDrafted))
    before, after = scene[:drafting], scene[drafting:]
    wished = ContractRequestEnriched(contract_id=before[0].contract_id, by="ann", at=AT,
                                     desired_start_date=D(2026, 11, 1))
    contract = Contract.rehydrate(str(before[0].contract_id), [*before, wished])
    contract.set_renewal_terms({**TACIT, "initial_term": None}, by="sales-ann", at=AT)
    [on_request] = contract.pending_events
    assert (on_request.start_date, on_request.terms.initial_term, on_request.period.end_date) == (
        D(2026, 11, 1), "P36M", D(2029, 10, 31))

    contract = Contract.rehydrate(contract.id, [*before, wished, on_request, *after])
    contract.start_reached(CATALOGUE, at=AT, by="clm.activation")
    followed = contract.pending_events[-1]
    assert isinstance(followed, RenewalTermsSet) and followed.origin == "manual" and followed.set_by == "sales-ann"
    assert (followed.start_date, followed.terms.initial_term, followed.period.end_date) == (START, "P36M",
                                                                                             D(2029, 12, 31))
    assert followed.terms.notice_period == "P90D"


def test_a_duration_too_long_for_the_calendar_is_refused_not_crashed():
    contract = drafted(start=D(9990, 1, 1), end=D(9990, 12, 31))
    refused = refusal(lambda: contract.set_renewal_terms({**TACIT, "initial_term": "P100Y"}, by="cm", at=AT))
    assert refused.rule == rules.RENEWAL_INITIAL_TERM_MISMATCH
    assert refusal(lambda: parse_duration("P101Y", "lead_time")).rule == rules.RENEWAL_DURATION_INVALID
    contract.set_renewal_terms(TACIT, by="cm", at=AT)
    assert [p.number for p in periods(contract.renewal_terms, D(9990, 1, 1), 50)] == list(range(1, 10))


@settings(max_examples=100, deadline=None)
@given(start=STARTS.filter(lambda d: d.year <= 2080), months=st.integers(1, 36), max_renewals=st.integers(0, 10),
       ends=st.integers(1, 12), redeliveries=st.integers(1, 3))
def test_each_period_end_renews_once_whatever_is_redelivered(start, months, max_renewals, ends, redeliveries):
    end = add_days(add_months(start, months), -1)
    contract = active({**TACIT, "initial_term": f"P{months}M", "renewal_term": None, "notice_period": "P1M",
                       "max_renewals": max_renewals}, start=start, end=end)
    for number in range(1, ends + 1):
        for _ in range(redeliveries):
            contract.period_ended(number, at=AT)
    renewed = [e for e in contract.pending_events if isinstance(e, ContractRenewed)]
    expected = min(ends, max_renewals)
    assert [e.renewals for e in renewed] == list(range(1, expected + 1))
    number = 1 + expected
    assert contract.current_period.number == number
    assert (contract.current_period.start_date, contract.current_period.end_date,
            contract.current_period.notice_deadline) == oracle(start, (months, 0), (months, 0), (1, 0), (0, 0),
                                                               number)[:3]


@settings(max_examples=150, deadline=None)
@given(notice=durations(), lead=durations(), offset=st.integers(-40, 40))
def test_notice_is_accepted_up_to_the_deadline_day_and_refused_the_day_after(notice, lead, offset):
    contract = active({**TACIT, "notice_period": notice[0], "lead_time": lead[0]})
    deadline = contract.current_period.notice_deadline
    day = add_days(deadline, offset)
    if offset <= 0:
        contract.give_termination_notice(given_on=day, reason=None, by="cm", at=AT)
        assert contract.notice.end_date == D(2027, 12, 31)
    else:
        late = refusal(lambda: contract.give_termination_notice(given_on=day, reason=None, by="cm", at=AT))
        assert late.rule == rules.TERMINATION_AFTER_NOTICE_DEADLINE
        later = late.extra["next_possible_end"]
        assert later is None or D.fromisoformat(later) > D(2027, 12, 31)
