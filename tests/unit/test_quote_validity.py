"""The scheduler's side of a quote (services/lifecycle_scheduler/domain/quote_validity.py), pure:
when a valid-until date ends, and that its end is announced once."""

import datetime as dt
import uuid

from services.lifecycle_scheduler.domain.quote_validity import QuoteValidity, validity_end

VALID_UNTIL = dt.date(2026, 12, 31)


def test_validity_ends_at_the_start_of_the_next_day_in_the_quotes_zone():
    assert validity_end(dt.date(2026, 12, 31), "Europe/Berlin") == dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)
    assert validity_end(dt.date(2031, 3, 8), "America/New_York") == dt.datetime(2031, 3, 9, 5, 0, tzinfo=dt.UTC)
    assert validity_end(dt.date.max, "Pacific/Kiritimati") is None  # no next day: it never ends


def test_a_validity_end_is_announced_once_per_date():
    validity = QuoteValidity.for_quote(uuid.uuid4())
    assert validity.end(VALID_UNTIL, "Europe/Berlin") and not validity.end(VALID_UNTIL, "Europe/Berlin")
    assert validity.end(dt.date(2027, 1, 31), "Europe/Berlin")
    assert [e.valid_until for e in validity.pending_events] == [VALID_UNTIL, dt.date(2027, 1, 31)]
    again = QuoteValidity.rehydrate(validity.id, validity.pending_events)
    assert not again.end(VALID_UNTIL, "Europe/Berlin")
