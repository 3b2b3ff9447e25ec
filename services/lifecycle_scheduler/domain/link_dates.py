"""A link's dates as time announces them: its future effective_from beginning, and the day after its
effective_to (read as UTC calendar days: link events carry no zone). The scheduler only announces
(AssetLinkDateReached); asset_coverage evaluates the asset's coverage for that date."""

import datetime as dt
from typing import Literal
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.link_dates import AssetLinkDateReached, link_id
from services.lifecycle_scheduler.domain.schedule import start_of_day

LINK_DATES_ZONE = "UTC"
Which = Literal["start", "end"]


def first_day_of(which: Which, date: dt.date | None) -> dt.date | None:
    """The first day with the new coverage: effective_from itself, or the day after effective_to."""
    if date is None or (which == "end" and date == dt.date.max):
        return None
    return date if which == "start" else date + dt.timedelta(days=1)


def due_at(on: dt.date) -> dt.datetime:
    return start_of_day(on, LINK_DATES_ZONE)


class LinkDates(Aggregate):
    stream_type = "link_dates"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reached: set[tuple[str, dt.date]] = set()

    @classmethod
    def for_link(cls, contract_id: UUID, asset_id: str) -> "LinkDates":
        return cls(str(link_id(contract_id, asset_id)))

    def reach(self, contract_id: UUID, asset_id: str, which: Which, on: dt.date) -> bool:
        """Announces the date once: a timer fired again for a date already announced records nothing."""
        if (which, on) in self.reached:
            return False
        self.record(AssetLinkDateReached(link_id=UUID(self.id), contract_id=contract_id, asset_id=asset_id,
                                         which=which, on=on, reached_at=due_at(on)))
        return True

    @applies
    def _on_reached(self, event: AssetLinkDateReached) -> None:
        self.reached.add((event.which, event.on))
