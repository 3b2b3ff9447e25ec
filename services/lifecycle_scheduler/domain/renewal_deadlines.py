"""A contract period's renewal deadlines: the instants, at configured offsets before its end, when
its renewal task is due, and which of them have been announced (RenewalDeadlineReached).

A deadline `days_before` the end falls due when that day begins in the contract's zone. When
several deadlines of a period are due at once (a contract registered 20 days before its end, or
the scheduler was down) only the latest of them is announced (one reminder now, not four at
once); the earlier ones are skipped."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import is_plannable
from shared.events.renewal_deadlines import RenewalDeadlineReached
from shared.events.renewal_tasks import DEFAULT_OFFSETS_DAYS, parse_offsets, renewal_task_id  # noqa: F401 (re-exported)
from services.lifecycle_scheduler.domain.schedule import start_of_day

def deadline_instant(end_date: dt.date, days_before: int, time_zone: str) -> dt.datetime | None:
    day = end_date - dt.timedelta(days=days_before)
    return start_of_day(day, time_zone) if is_plannable(day) else None


def planned_deadlines(end_date: dt.date, time_zone: str, offsets: tuple[int, ...]) -> list[tuple[int, dt.datetime]]:
    """(days_before, due_at) per offset whose day can be planned."""
    return [(days, at) for days in offsets if (at := deadline_instant(end_date, days, time_zone)) is not None]


def to_announce(due: list[int]) -> int | None:
    """Of a period's deadlines due now, the one to announce: the latest (fewest days before the end).
    The others were passed while nobody could be told (registered late, the scheduler down)."""
    return min(due) if due else None


class RenewalDeadlines(Aggregate):
    stream_type = "renewal_deadlines"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reached: set[int] = set()

    @classmethod
    def for_period(cls, contract_id: UUID, end_date: dt.date) -> "RenewalDeadlines":
        return cls(str(renewal_task_id(contract_id, end_date)))

    def reach(self, contract_id: UUID, end_date: dt.date, days_before: int, time_zone: str) -> bool:
        """Announces the deadline once: a timer that fires again for it records nothing."""
        if days_before in self.reached:
            return False
        self.record(RenewalDeadlineReached(task_id=UUID(self.id), contract_id=contract_id, end_date=end_date,
                                           days_before=days_before,
                                           reached_at=deadline_instant(end_date, days_before, time_zone)))
        return True

    @applies
    def _on_reached(self, event: RenewalDeadlineReached) -> None:
        self.reached.add(event.days_before)
