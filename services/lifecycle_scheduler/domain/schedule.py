"""A contract's schedule: when it expires, and whether it has.

Dates are calendar dates read in the contract's time zone; the start date is the first day in
force, so activation falls due at the start of it there; the end date is the last day in force,
so expiry falls due at the start of the next day there.
"""

import datetime as dt
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.backbone.aggregate import Aggregate, applies
from shared.events.lifecycle import ContractExpired, ExpiryScheduled


def start_of_day(date: dt.date, time_zone: str) -> dt.datetime:
    """The first instant of `date` in the zone, in UTC. zoneinfo reads 00:00 with the offset in
    force before any DST change at that hour (fold=0): where a gap skips midnight that is the
    instant the day begins, and where midnight happens twice it is the first."""
    return dt.datetime.combine(date, dt.time(0), tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)


def activation_instant(start_date: dt.date, time_zone: str) -> dt.datetime:
    return start_of_day(start_date, time_zone)


def expiry_instant(end_date: dt.date, time_zone: str) -> dt.datetime:
    return start_of_day(end_date + dt.timedelta(days=1), time_zone)


class ContractSchedule(Aggregate):
    stream_type = "contract_schedule"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.end_date: dt.date | None = None
        self.time_zone = "UTC"
        self.due_at: dt.datetime | None = None
        self.expired = False

    @classmethod
    def for_contract(cls, contract_id: UUID) -> "ContractSchedule":
        return cls(str(contract_id))

    def schedule_expiry(self, end_date: dt.date, time_zone: str) -> None:
        if self.expired or (self.end_date == end_date and self.time_zone == time_zone):
            return
        self.record(
            ExpiryScheduled(
                contract_id=UUID(self.id), end_date=end_date, time_zone=time_zone,
                due_at=expiry_instant(end_date, time_zone),
            )
        )

    def expire_if_due(self, now: dt.datetime) -> bool:
        if self.expired or self.due_at is None or now < self.due_at:
            return False
        self.record(ContractExpired(contract_id=UUID(self.id), end_date=self.end_date, expired_at=self.due_at))
        return True

    @applies
    def _on_expiry_scheduled(self, event: ExpiryScheduled) -> None:
        self.end_date, self.time_zone, self.due_at = event.end_date, event.time_zone, event.due_at

    @applies
    def _on_contract_expired(self, event: ContractExpired) -> None:
        self.expired = True
