"""Obligations without I/O: the clm aggregate's rules (exactly one of due date and recurrence, the
RRULE checks, completion of an occurrence, cancellation), occurrence states in the obligation's
zone, recurrence edge cases (month ends, leap days, COUNT and UNTIL), and the scheduler's dates
(due and overdue instants across DST, the latest overdue notice after downtime, escalation, the
next occurrence past completed ones), and properties against simple oracles (calendar.monthrange,
a full expansion, local midnights)."""

import calendar
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from shared.backbone.errors import ConflictingState, DomainError
from shared.events.obligations import Recurrence
from services.clm.domain import rules
from services.clm.domain.obligation import Obligation, latest_before
from services.lifecycle_scheduler.domain.obligation_dates import (
    ACCOUNTABLE, ObligationDates, due_instant, first_timed, latest_overdue_number, next_occurrence, overdue_instant,
    overdue_recipients,
)

D = dt.date
AT = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)


def obligation(due_date=None, recurrence=None, owners=("ann@vendor.example",), time_zone="Europe/Berlin") -> Obligation:
    o = Obligation.record_new(uuid.uuid4(), contract_id=uuid.uuid4(), kind="report", description="SLA report",
                              owners=list(owners), due_date=due_date, recurrence=recurrence, time_zone=time_zone,
                              source_clause="7.2", origin="manual", by="cm", at=AT)
    o.mark_persisted()
    return o


def refusal(**kwargs) -> str:
    with pytest.raises(DomainError) as raised:
        obligation(**kwargs)
    return raised.value.rule


def test_exactly_one_of_due_date_and_recurrence():
    assert refusal() == rules.OBLIGATION_DUE_DATE_OR_RECURRENCE
    assert refusal(due_date=D(2027, 3, 1), recurrence=Recurrence(rrule="FREQ=MONTHLY", start=D(2027, 1, 1))) \
        == rules.OBLIGATION_DUE_DATE_OR_RECURRENCE


@pytest.mark.parametrize("rrule,rule", [
    ("FREQ=MONTHLY;FOO=1", rules.OBLIGATION_RRULE_INVALID),
    ("not a rule", rules.OBLIGATION_RRULE_INVALID),
    ("DTSTART:20270101T000000\nRRULE:FREQ=MONTHLY", rules.OBLIGATION_RRULE_INVALID),
    ("FREQ=MONTHLY;DTSTART=20270101", rules.OBLIGATION_RRULE_INVALID),
    ("FREQ=HOURLY;COUNT=3", rules.OBLIGATION_RRULE_INVALID),  # several a day: an occurrence is a day
    ("FREQ=DAILY;BYHOUR=9", rules.OBLIGATION_RRULE_INVALID),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", rules.OBLIGATION_RRULE_EMPTY),  # 30 February never comes
    ("FREQ=DAILY;BYMONTH=2,4;BYMONTHDAY=31,-31", rules.OBLIGATION_RRULE_EMPTY),  # refused without a search to 9999
    ("FREQ=MONTHLY;UNTIL=20261231", rules.OBLIGATION_RRULE_EMPTY),  # ends before it starts
])
def test_an_rrule_that_does_not_parse_or_yields_nothing_is_refused(rrule, rule):
    assert refusal(recurrence=Recurrence(rrule=rrule, start=D(2027, 1, 1))) == rule


def test_owners_are_required_and_kept_once_each():
    assert refusal(due_date=D(2027, 3, 1), owners=[" ", ""]) == rules.OBLIGATION_OWNERS_REQUIRED
    assert obligation(due_date=D(2027, 3, 1), owners=["ann", "ann", "role:finance"]).recorded.owners == ["ann", "role:finance"]


def test_month_end_recurrence_from_31_january_keeps_to_month_ends_and_the_leap_day():
    o = obligation(recurrence=Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=-1", start=D(2028, 1, 31)))
    assert o.occurrences(D(2028, 1, 1), D(2028, 5, 31)) == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31),
                                                           D(2028, 4, 30), D(2028, 5, 31)]
    assert o.is_occurrence(D(2028, 2, 29)) and not o.is_occurrence(D(2028, 2, 28))


def test_a_plain_monthly_rule_from_the_31st_skips_short_months_as_rfc_5545_says():
    o = obligation(recurrence=Recurrence(rrule="FREQ=MONTHLY;COUNT=4", start=D(2027, 1, 31)))
    assert o.occurrences(D(2027, 1, 1), D(2027, 12, 31)) == [D(2027, 1, 31), D(2027, 3, 31), D(2027, 5, 31),
                                                            D(2027, 7, 31)]


def test_count_and_until_bound_the_occurrences():
    o = obligation(recurrence=Recurrence(rrule="FREQ=WEEKLY;UNTIL=20270122", start=D(2027, 1, 1)))
    assert o.occurrences(D(2020, 1, 1), D(2030, 1, 1)) == [D(2027, 1, 1), D(2027, 1, 8), D(2027, 1, 15),
                                                          D(2027, 1, 22)]


def test_occurrence_states_are_derived_from_today_and_completion():
    o = obligation(recurrence=Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=1", start=D(2027, 1, 1)))
    today = D(2027, 3, 1)
    assert [o.state_of(d, today) for d in (D(2027, 2, 1), D(2027, 3, 1), D(2027, 4, 1))] == ["overdue", "due", "upcoming"]
    assert o.complete(D(2027, 2, 1), note="sent", evidence=None, by="ann", at=AT)
    assert o.state_of(D(2027, 2, 1), today) == "completed"


def test_around_today_is_the_last_three_and_the_next_five():
    o = obligation(recurrence=Recurrence(rrule="FREQ=DAILY", start=D(2020, 1, 1)))
    assert o.around(D(2027, 3, 10)) == [D(2027, 3, d) for d in (7, 8, 9, 10, 11, 12, 13, 14)]
    yearly = obligation(recurrence=Recurrence(rrule="FREQ=YEARLY", start=D(2020, 2, 29)))
    assert yearly.around(D(2031, 1, 1), before=3, after=1) == [D(2020, 2, 29), D(2024, 2, 29), D(2028, 2, 29),
                                                              D(2032, 2, 29)]


def test_latest_before_looks_back_far_enough_and_no_further_than_the_start():
    monthly = Recurrence(rrule="FREQ=MONTHLY;INTERVAL=3", start=D(2027, 1, 15))
    assert latest_before(monthly, D(2027, 5, 1), 3) == [D(2027, 1, 15), D(2027, 4, 15)]
    assert latest_before(monthly, D(2027, 1, 15), 3) == []


def test_completing_an_occurrence_once_not_an_occurrence_and_after_cancellation():
    o = obligation(recurrence=Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=-1", start=D(2027, 1, 31)))
    with pytest.raises(DomainError) as raised:
        o.complete(D(2027, 2, 27), note="sent", evidence=None, by="ann", at=AT)
    assert raised.value.rule == rules.OBLIGATION_NOT_AN_OCCURRENCE
    assert o.complete(D(2027, 2, 28), note="sent", evidence=None, by="ann", at=AT)
    assert not o.complete(D(2027, 2, 28), note="again", evidence=None, by="bob", at=AT)
    assert o.completed[D(2027, 2, 28)].note == "sent"
    assert o.cancel(reason="contract ended", by="cm", at=AT) and not o.cancel(reason=None, by="cm", at=AT)
    with pytest.raises(ConflictingState) as raised:
        o.complete(D(2027, 3, 31), note="late", evidence=None, by="ann", at=AT)
    assert raised.value.rule == rules.OBLIGATION_CANCELED
    # A completion retried after the cancellation still answers the one recorded.
    assert not o.complete(D(2027, 2, 28), note="sent", evidence=None, by="ann", at=AT)


def test_a_one_off_obligation_has_one_occurrence():
    o = obligation(due_date=D(2027, 2, 15))
    assert o.around(D(2030, 1, 1)) == [D(2027, 2, 15)] and o.is_occurrence(D(2027, 2, 15))
    assert not o.is_occurrence(D(2027, 2, 16))


def test_owners_by_subject_or_role():
    o = obligation(due_date=D(2027, 2, 15), owners=["Ann@Vendor.example", "role:finance"])
    assert o.may_complete("ann@vendor.example", None, set())
    assert o.may_complete("bob", None, {"finance"})
    assert not o.may_complete("bob", None, {"sales"})


# -- the scheduler's dates ------------------------------------------------------------------------------


def test_due_and_overdue_instants_are_midnights_in_the_zone_across_dst():
    zone = "Europe/Berlin"
    assert due_instant(D(2027, 3, 27), zone) == dt.datetime(2027, 3, 26, 23, 0, tzinfo=dt.UTC)
    # Due the Saturday before the spring change: overdue at Sunday 00:00 CET, then 3 days on at 00:00 CEST.
    assert overdue_instant(D(2027, 3, 27), zone, 1, 3) == dt.datetime(2027, 3, 27, 23, 0, tzinfo=dt.UTC)
    assert overdue_instant(D(2027, 3, 27), zone, 2, 3) == dt.datetime(2027, 3, 30, 22, 0, tzinfo=dt.UTC)


def test_after_downtime_only_the_latest_overdue_notice_is_sent():
    zone = "UTC"
    due_on = D(2027, 1, 10)
    # Notices at 11th (1), 14th (2), 17th (3), 20th (4): on the 18th notice 3 is the latest.
    assert latest_overdue_number(due_on, zone, 1, 3, dt.datetime(2027, 1, 18, tzinfo=dt.UTC)) == 3
    assert latest_overdue_number(due_on, zone, 1, 3, dt.datetime(2027, 1, 11, tzinfo=dt.UTC)) == 1
    assert latest_overdue_number(due_on, zone, 1, 3, dt.datetime(2027, 1, 20, tzinfo=dt.UTC)) == 4


def test_escalation_adds_the_accountable_role_from_the_configured_notice_on():
    assert overdue_recipients(["ann"], 1, 2) == (["ann"], False)
    assert overdue_recipients(["ann"], 2, 2) == (["ann", ACCOUNTABLE], True)
    assert overdue_recipients([ACCOUNTABLE], 5, 2) == ([ACCOUNTABLE], True)
    assert overdue_recipients(["ann"], 9, None) == (["ann"], False)


def test_the_next_occurrence_skips_completed_ones():
    r = Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4", start=D(2027, 1, 1))
    assert next_occurrence(None, r, None, set()) == D(2027, 1, 31)
    assert next_occurrence(None, r, D(2027, 1, 31), {D(2027, 2, 28)}) == D(2027, 3, 31)
    assert next_occurrence(None, r, D(2027, 3, 31), set()) == D(2027, 4, 30)
    assert next_occurrence(None, r, D(2027, 4, 30), set()) is None
    assert next_occurrence(D(2027, 5, 1), None, None, set()) == D(2027, 5, 1)
    assert next_occurrence(D(2027, 5, 1), None, D(2027, 5, 1), set()) is None
    assert next_occurrence(D(2027, 5, 1), None, None, {D(2027, 5, 1)}) is None


def test_timers_start_at_the_latest_past_occurrence_or_the_next():
    r = Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=1", start=D(2025, 1, 1))
    assert first_timed(None, r, D(2027, 3, 15), set()) == D(2027, 3, 1)
    assert first_timed(None, r, D(2027, 3, 1), set()) == D(2027, 2, 1)
    assert first_timed(None, r, D(2027, 3, 15), {D(2027, 3, 1)}) == D(2027, 2, 1)
    later = Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=1", start=D(2028, 1, 1))
    assert first_timed(None, later, D(2027, 3, 15), set()) == D(2028, 1, 1)
    assert first_timed(D(2026, 1, 1), None, D(2027, 3, 15), set()) == D(2026, 1, 1)  # a one-off: always timed


def test_each_notice_is_announced_once():
    dates = ObligationDates.for_obligation(uuid.uuid4())
    cid = uuid.uuid4()
    assert dates.announce_due(cid, D(2027, 1, 31), kind="report", description="x", owners=["ann"], reached_at=AT)
    assert not dates.announce_due(cid, D(2027, 1, 31), kind="report", description="x", owners=["ann"], reached_at=AT)
    assert dates.announce_overdue(cid, D(2027, 1, 31), 2, owners=["ann"], escalate_after=2, reached_at=AT)
    assert not dates.announce_overdue(cid, D(2027, 1, 31), 1, owners=["ann"], escalate_after=2, reached_at=AT)
    [_, overdue] = dates.pending_events
    assert (overdue.number, overdue.recipients, overdue.escalated) == (2, ["ann", ACCOUNTABLE], True)


# -- properties, against simple oracles ------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia",
                         "Asia/Kolkata"])
DAYS = st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31))


@settings(max_examples=200, deadline=None)
@given(start=DAYS, count=st.integers(1, 30))
def test_month_end_rules_fall_on_each_months_last_day(start, count):
    o = obligation(recurrence=Recurrence(rrule=f"FREQ=MONTHLY;BYMONTHDAY=-1;COUNT={count}", start=start))
    found = o.occurrences(start, None)
    y, m = start.year, start.month
    expected = []
    while len(expected) < count:  # the oracle: calendar.monthrange, month by month from the start's month
        expected.append(D(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    assert found == expected


@settings(max_examples=200, deadline=None)
@given(start=DAYS, interval=st.integers(1, 40), offset=st.integers(0, 3000), count=st.integers(0, 4))
def test_latest_before_is_the_tail_of_the_full_expansion(start, interval, offset, count):
    r = Recurrence(rrule=f"FREQ=DAILY;INTERVAL={interval}", start=start)
    day = start + dt.timedelta(days=offset)
    every = [start + dt.timedelta(days=interval * k) for k in range(offset // interval + 2)]
    before = [d for d in every if d < day]
    assert latest_before(r, day, count) == (before[-count:] if count else [])


@settings(max_examples=300, deadline=None)
@given(due_on=DAYS, zone=ZONES, number=st.integers(1, 20), repeat=st.integers(1, 14))
def test_overdue_notices_fall_at_local_midnights_every_repeat_days(due_on, zone, number, repeat):
    at = overdue_instant(due_on, zone, number, repeat)
    local = at.astimezone(ZoneInfo(zone))
    # The oracle: the local date is due_on + 1 + (number - 1) x repeat, at the first instant of that day.
    assert local.date() == due_on + dt.timedelta(days=1 + (number - 1) * repeat)
    assert (at - dt.timedelta(minutes=1)).astimezone(ZoneInfo(zone)).date() < local.date()
    later = at + dt.timedelta(days=repeat * 2, minutes=1)
    # The latest notice due by `later`: the last local date of the sequence whose midnight is not after it.
    local_later = later.astimezone(ZoneInfo(zone))
    expected = max(n for n in range(number, number + 4)
                   if dt.datetime.combine(due_on + dt.timedelta(days=1 + (n - 1) * repeat), dt.time(),
                                          tzinfo=ZoneInfo(zone)) <= local_later)
    assert latest_overdue_number(due_on, zone, number, repeat, later) == expected
    assert latest_overdue_number(due_on, zone, number, repeat, at) == number


def test_a_day_of_the_month_that_some_listed_month_has_is_accepted():
    from services.clm.domain.obligation import _never_matches

    assert not _never_matches({"BYMONTH": "2,3", "BYMONTHDAY": "30"})  # 30 March
    assert not _never_matches({"BYMONTH": "2", "BYMONTHDAY": "-29"})  # 1 February counted from the end
    assert _never_matches({"BYMONTH": "4,6,9,11", "BYMONTHDAY": "31"})
