"""The renewal calendar's pure parts: the pipeline's buckets and CSV, the feeds' entries (parsed
back with icalendar: all-day dates, alarms per offset, stable UIDs, completed tasks), occurrences
expanded around the day a feed is read, and who renews tacitly."""

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal
from types import SimpleNamespace

import icalendar

from shared.backbone import calendar_feeds
from services.projection.api.renewals import buckets_of, csv_of
from services.projection.application.calendar_feeds import (
    OCCURRENCES_AHEAD_DAYS, occurrence_dates, occurrence_entry, period_entries,
)
from services.projection.adapters.renewal_calendar import renews_tacitly

TODAY = dt.date(2027, 1, 31)
STAMP = dt.datetime(2027, 1, 2, 8, tzinfo=dt.UTC)
A, B = uuid.UUID(int=1), uuid.UUID(int=2)


def _row(contract_id, anchor, days, value, currency="EUR"):
    return {"contract_id": contract_id, "anchor": anchor, "date": TODAY + dt.timedelta(days=days),
            "value": None if value is None else Decimal(value), "currency": currency}


def test_buckets_count_dates_and_sum_each_contract_once_per_currency():
    rows = [_row(A, "cancel_by", 5, "100.50"), _row(A, "end", 50, "100.50"), _row(B, "end", 80, "7", "USD"),
            _row(uuid.UUID(int=3), "end", 90, None)]
    buckets = buckets_of(rows, TODAY, 90)
    assert [(b["within_days"], b["count"], b["contracts"]) for b in buckets] == [(30, 1, 1), (60, 2, 1), (90, 4, 3)]
    assert buckets[1]["value"] == [{"currency": "EUR", "amount": Decimal("100.50")}]
    assert buckets[2]["value"] == [{"currency": "EUR", "amount": Decimal("100.50")},
                                   {"currency": "USD", "amount": Decimal("7")}]
    assert [b["within_days"] for b in buckets_of(rows, TODAY, 45)] == [30, 45]


def test_csv_has_a_header_iso_dates_plain_decimals_and_words_for_booleans():
    rows = [{"contract_id": A, "date": dt.date(2027, 2, 28), "value": Decimal("1E+3"), "acknowledged": True,
             "title": 'Say "hi", then go', "currency": None}]
    response = csv_of(rows, ["contract_id", "date", "value", "acknowledged", "title", "currency"], "x.csv")
    assert response.media_type.startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.body.decode())))
    assert table == [["contract_id", "date", "value", "acknowledged", "title", "currency"],
                     [str(A), "2027-02-28", "1000", "true", 'Say "hi", then go', ""]]


def _period(number=1, **changes):
    values = dict(contract_id=A, number="CNT-1", title="Fleet service", period_number=number,
                  period_start=dt.date(2027, 1, 31), period_end=dt.date(2028, 1, 30),
                  notice_deadline=dt.date(2027, 11, 1), cancel_by=dt.date(2027, 10, 2), renewal="tacit",
                  owners=["ann", "role:finance"], reminder_offsets_days=[90, 60, 30, 0], termination_given_on=None,
                  termination_end=None, changed_at=STAMP)
    return SimpleNamespace(**(values | changes))


def _parsed(entries) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(calendar_feeds.render("test", entries))


def test_a_period_is_two_all_day_events_with_an_alarm_per_offset_and_stable_uids():
    calendar = _parsed(period_entries(_period()))
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"renewal-{A}-p1-cancel-by@projection.clm-platform",
                           f"renewal-{A}-p1-end@projection.clm-platform"}
    cancel_by = events[f"renewal-{A}-p1-cancel-by@projection.clm-platform"]
    assert cancel_by.decoded("dtstart") == dt.date(2027, 10, 2) and cancel_by.decoded("dtend") == dt.date(2027, 10, 3)
    assert sorted(a.decoded("trigger") for a in cancel_by.walk("VALARM")) == [-dt.timedelta(days=n) for n in (90, 60, 30, 0)]
    assert "Notice deadline: 2027-11-01" in str(cancel_by["description"])
    end = events[f"renewal-{A}-p1-end@projection.clm-platform"]
    assert end.decoded("dtstart") == dt.date(2028, 1, 30) and str(end["summary"]) == "Period ends: CNT-1"
    # The same row renders the same UIDs; the next period's are new ones.
    assert [e.uid for e in period_entries(_period())] == [e.uid for e in period_entries(_period())]
    assert not {e.uid for e in period_entries(_period(2))} & {e.uid for e in period_entries(_period())}


def test_a_termination_notice_says_when_the_contract_ends():
    noticed = _period(termination_given_on=dt.date(2027, 9, 1), termination_end=dt.date(2028, 1, 30))
    end = period_entries(noticed)[1]
    assert end.summary == "Ends: CNT-1" and "Termination notice given on 2027-09-01" in end.description


def _obligation(**changes):
    values = dict(obligation_id=B, contract_id=A, number="CNT-1", title="Fleet service", kind="sla_credit_threshold",
                  description="quarterly SLA report", owners=["ann"], due_date=None, rrule="FREQ=MONTHLY;BYMONTHDAY=-1",
                  recurrence_start=dt.date(2027, 1, 31), source_clause="sla", recorded_at=STAMP, canceled_at=None)
    return SimpleNamespace(**(values | changes))


def test_occurrences_are_expanded_around_the_day_the_feed_is_read_even_years_later():
    later = dt.date(2035, 6, 15)
    dates = occurrence_dates(_obligation(), later)
    assert dates[0] == dt.date(2035, 5, 31) and dates[1] == dt.date(2035, 6, 30)  # a month back, then ahead
    assert dates[-1] <= later + dt.timedelta(days=OCCURRENCES_AHEAD_DAYS) and len(dates) == 14
    assert dt.date(2036, 2, 29) in dates  # month ends across a leap day
    assert occurrence_dates(_obligation(due_date=dt.date(2027, 3, 1), rrule=None, recurrence_start=None), later) == [
        dt.date(2027, 3, 1)]  # a one-off stays
    assert occurrence_dates(_obligation(rrule="FREQ=MONTHLY;COUNT=3"), later) == []  # that recurrence is over


def test_an_occurrence_is_a_task_due_on_its_date_completed_once_done():
    open_task = occurrence_entry(_obligation(), dt.date(2027, 2, 28), None)
    done = occurrence_entry(_obligation(), dt.date(2027, 3, 31), STAMP + dt.timedelta(days=90))
    todos = {str(t["uid"]): t for t in _parsed([open_task, done]).walk("VTODO")}
    first = todos[f"obligation-{B}-20270228@projection.clm-platform"]
    assert first.decoded("due") == dt.date(2027, 2, 28) and str(first["status"]) == "NEEDS-ACTION"
    assert str(first["summary"]) == "Sla credit threshold: quarterly SLA report"
    second = todos[f"obligation-{B}-20270331@projection.clm-platform"]
    assert str(second["status"]) == "COMPLETED" and second.decoded("completed") == STAMP + dt.timedelta(days=90)


def test_tacit_renewal_needs_renewals_left():
    assert renews_tacitly(SimpleNamespace(renewal="tacit", max_renewals=None, renewals=None))
    assert renews_tacitly(SimpleNamespace(renewal="tacit", max_renewals=3, renewals=2))
    assert not renews_tacitly(SimpleNamespace(renewal="tacit", max_renewals=3, renewals=3))
    assert not renews_tacitly(SimpleNamespace(renewal="express", max_renewals=None, renewals=None))
