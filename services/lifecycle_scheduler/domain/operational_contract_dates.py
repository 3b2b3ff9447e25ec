"""A vendor contract's dates as the scheduler keeps them (docs/design/operations.md): when its
start date begins and when the day after its end date begins, in the contract's zone, and which
of them have been announced. The scheduler only announces a date, once per date; asset_coverage
activates or expires the contract."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.operational_dates import OperationalContractEndReached, OperationalContractStartReached
from services.lifecycle_scheduler.domain.schedule import activation_instant, expiry_instant

START, END = "start", "end"


def due_instant(kind: str, date: dt.date, time_zone: str) -> dt.datetime:
    """Start: the start date's first instant there; end: the next day's (schedule.expiry_instant)."""
    return activation_instant(date, time_zone) if kind == START else expiry_instant(date, time_zone)


class OperationalContractDates(Aggregate):
    stream_type = "operational_contract_dates"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reached: set[tuple[str, dt.date]] = set()

    @classmethod
    def for_contract(cls, contract_id: UUID) -> "OperationalContractDates":
        return cls(str(contract_id))

    def reach(self, kind: str, date: dt.date, time_zone: str) -> bool:
        """Announces that the contract's `kind` date has been reached, once per date: a timer that
        fires again for a date already announced (moved away and back) records nothing."""
        if (kind, date) in self.reached:
            return False
        at = due_instant(kind, date, time_zone)
        contract_id = UUID(self.id)
        if kind == START:
            self.record(OperationalContractStartReached(contract_id=contract_id, start_date=date, time_zone=time_zone,
                                                        reached_at=at))
        else:
            self.record(OperationalContractEndReached(contract_id=contract_id, end_date=date, time_zone=time_zone,
                                                      reached_at=at))
        return True

    @applies
    def _on_start_reached(self, event: OperationalContractStartReached) -> None:
        self.reached.add((START, event.start_date))

    @applies
    def _on_end_reached(self, event: OperationalContractEndReached) -> None:
        self.reached.add((END, event.end_date))
