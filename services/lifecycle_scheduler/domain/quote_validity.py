"""A quote's validity: when its valid-until date ends, and which ends have been announced.

valid_until is the last day a quote can be approved, read in the quote's time zone, so its validity
ends when the next day begins there (as a contract's end date, schedule.expiry_instant). The
scheduler only announces it (QuoteValidityEnded); order sync expires the quote if still Draft.
"""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.lifecycle import QuoteValidityEnded
from services.lifecycle_scheduler.domain.schedule import expiry_instant


def validity_end(valid_until: dt.date, time_zone: str) -> dt.datetime | None:
    """None for a quote valid until the last date there is: no next day begins."""
    return None if valid_until == dt.date.max else expiry_instant(valid_until, time_zone)


class QuoteValidity(Aggregate):
    stream_type = "quote_validity"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.ended: set[dt.date] = set()  # valid-until dates whose end was announced

    @classmethod
    def for_quote(cls, quote_id: UUID) -> "QuoteValidity":
        return cls(str(quote_id))

    def end(self, valid_until: dt.date, time_zone: str) -> bool:
        """Announces that `valid_until` has ended, once per date: a timer that fires again for a
        date already announced (moved away and back) records nothing."""
        if valid_until in self.ended:
            return False
        self.record(QuoteValidityEnded(quote_id=UUID(self.id), valid_until=valid_until, time_zone=time_zone,
                                       ended_at=validity_end(valid_until, time_zone)))
        return True

    @applies
    def _on_ended(self, event: QuoteValidityEnded) -> None:
        self.ended.add(event.valid_until)
