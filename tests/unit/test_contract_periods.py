"""The scheduler's contract periods without I/O: who decides at a period end (renew tacitly or
expire), which timers a period gets, and that each announcement is recorded once."""

import datetime as dt
import uuid

import pytest

from shared.events.contract_periods import ContractPeriodEnded, ContractReminderDue
from shared.events.renewal_terms import ContractPeriod
from services.lifecycle_scheduler.domain.contract_periods import (
    PERIOD_END, ContractPeriods, PeriodState, at_period_end, planned_timers, reminder_instant, to_announce,
)

UTC = dt.UTC
PERIOD_1 = ContractPeriod(number=1, start_date=dt.date(2031, 1, 31), end_date=dt.date(2032, 1, 30),
                          notice_deadline=dt.date(2031, 11, 1), cancel_by=dt.date(2031, 10, 2))


def state(**overrides) -> PeriodState:
    values = {"renewal": "tacit", "max_renewals": None, "renewals": 0, "period": PERIOD_1, **overrides}
    return PeriodState(**values)


@pytest.mark.parametrize("overrides, decision", [
    ({}, "renew"),
    ({"renewal": "express"}, "expire"),
    ({"max_renewals": 2, "renewals": 1}, "renew"),
    ({"max_renewals": 2, "renewals": 2}, "expire"),
    ({"max_renewals": 0}, "expire"),
    ({"notice_period": 1}, "expire"),
    ({"notice_period": 2}, "renew"),  # a notice for a later period does not end this one
])
def test_at_the_period_end_a_tacit_contract_with_renewals_left_and_no_notice_renews(overrides, decision):
    assert at_period_end(state(**overrides)) == decision


def test_a_period_gets_its_end_and_a_reminder_per_offset_before_each_anchor_at_the_start_of_the_day_there():
    timers = planned_timers(state(), "Europe/Berlin", [0, 30, 60, 90])
    end = [t for t in timers if t.anchor == PERIOD_END]
    assert [(t.anchor_date, t.due_at) for t in end] == [
        (dt.date(2032, 1, 30), dt.datetime(2032, 1, 30, 23, tzinfo=UTC))]  # 31 Jan begins at 23:00 UTC
    reminders = {(t.anchor, t.days_before): (t.anchor_date, t.due_at) for t in timers if t.anchor != PERIOD_END}
    assert sorted(reminders) == sorted((a, d) for a in ("cancel_by", "end") for d in (90, 60, 30, 0))
    assert reminders["cancel_by", 90] == (dt.date(2031, 10, 2), dt.datetime(2031, 7, 3, 22, tzinfo=UTC))  # CEST
    assert reminders["end", 0] == (dt.date(2032, 1, 30), dt.datetime(2032, 1, 29, 23, tzinfo=UTC))


def test_an_acknowledged_anchor_gets_no_reminders_and_a_notice_leaves_only_the_period_end():
    acknowledged = planned_timers(state(acknowledged=frozenset({(1, "cancel_by")})), "UTC", [90, 0])
    assert {(t.anchor, t.days_before) for t in acknowledged} == {(PERIOD_END, 0), ("end", 90), ("end", 0)}
    noticed = planned_timers(state(notice_period=1), "UTC", [90, 0])
    assert [(t.anchor, t.days_before) for t in noticed] == [(PERIOD_END, 0)]


def test_a_cancel_by_on_the_end_date_is_reminded_once_as_the_end():
    same_day = PERIOD_1.model_copy(update={"notice_deadline": PERIOD_1.end_date, "cancel_by": PERIOD_1.end_date})
    timers = planned_timers(state(renewal="express", period=same_day), "UTC", [30, 0])
    assert {(t.anchor, t.days_before) for t in timers} == {(PERIOD_END, 0), ("end", 30), ("end", 0)}


def test_reminders_whose_day_cannot_be_planned_are_left_out():
    assert reminder_instant(dt.date(1, 1, 5), 10, "UTC") is None
    assert reminder_instant(dt.date(2031, 3, 30), 0, "Europe/Berlin") == dt.datetime(2031, 3, 29, 23, tzinfo=UTC)


def test_of_the_reminders_due_at_once_the_one_fewest_days_before_is_announced():
    assert to_announce([90, 60, 30]) == 30
    assert to_announce([]) is None


def test_each_period_end_and_reminder_is_recorded_once():
    contract_id = uuid.uuid4()
    periods = ContractPeriods.for_contract(contract_id)
    assert periods.id == f"contract-periods:{contract_id}" and periods.contract_id == contract_id
    assert periods.end_period(PERIOD_1, "Europe/Berlin") is True
    assert periods.end_period(PERIOD_1, "Europe/Berlin") is False
    at = dt.datetime(2031, 7, 3, 22, tzinfo=UTC)
    assert periods.remind(1, "cancel_by", PERIOD_1.cancel_by, 90, ["a@x.example"], at) is True
    assert periods.remind(1, "cancel_by", PERIOD_1.cancel_by, 90, ["a@x.example"], at) is False
    assert periods.remind(1, "end", PERIOD_1.end_date, 90, ["a@x.example"], at) is True
    [ended, *reminders] = periods.pending_events
    assert isinstance(ended, ContractPeriodEnded) and (ended.period_number, ended.end_date, ended.reached_at) == (
        1, dt.date(2032, 1, 30), dt.datetime(2032, 1, 30, 23, tzinfo=UTC))
    assert [(type(r), r.anchor, r.days_before) for r in reminders] == [
        (ContractReminderDue, "cancel_by", 90), (ContractReminderDue, "end", 90)]
    rehydrated = ContractPeriods.rehydrate(periods.id, periods.pending_events)
    assert rehydrated.end_period(PERIOD_1, "UTC") is False and rehydrated.reminded == periods.reminded
