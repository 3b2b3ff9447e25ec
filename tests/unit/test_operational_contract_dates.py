"""The scheduler's dates of a vendor contract: due at the start date's first instant and at the
start of the day after the end date, in the contract's zone; each date announced once."""

import datetime as dt
import uuid

from services.lifecycle_scheduler.domain.operational_contract_dates import END, START, OperationalContractDates, due_instant


def test_the_start_is_due_when_its_day_begins_and_the_end_when_the_next_day_does_in_the_zone():
    assert due_instant(START, dt.date(2027, 1, 1), "Europe/Berlin") == dt.datetime(2026, 12, 31, 23, tzinfo=dt.UTC)
    assert due_instant(END, dt.date(2027, 6, 30), "Europe/Berlin") == dt.datetime(2027, 6, 30, 22, tzinfo=dt.UTC)
    assert due_instant(END, dt.date(2027, 6, 30), "UTC") == dt.datetime(2027, 7, 1, tzinfo=dt.UTC)


def test_each_date_is_announced_once_and_a_new_date_again():
    dates = OperationalContractDates.for_contract(uuid.uuid4())
    assert dates.reach(START, dt.date(2027, 1, 1), "UTC") and not dates.reach(START, dt.date(2027, 1, 1), "UTC")
    assert dates.reach(END, dt.date(2027, 12, 31), "UTC") and dates.reach(END, dt.date(2028, 12, 31), "UTC")
    events = dates.pending_events
    assert [type(e).__name__ for e in events] == ["OperationalContractStartReached", "OperationalContractEndReached",
                                                  "OperationalContractEndReached"]
    assert events[1].reached_at == dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
    again = OperationalContractDates.rehydrate(dates.id, events)
    assert not again.reach(END, dt.date(2028, 12, 31), "UTC")
