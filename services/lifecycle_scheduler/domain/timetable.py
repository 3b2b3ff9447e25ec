"""A service contract's timetable: when the contract, its lines and its entitlements activate and
expire, and which dates have been reached.

Every item has a start and an end date, read in the contract's time zone. Activation falls due
at the start of the start date; expiry at the start of the day after the end date. The scheduler
does not change states itself: when timers fall due it says which date has begun
(ServiceContractDateReached) and order sync applies the life-cycle rules to it.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Literal, Self
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.lifecycle import DueTransition, ServiceContractDateReached
from shared.events.orders import (
    ContractLineTerms,
    EntitlementTerms,
    ServiceContractDrafted,
    ServiceContractRecorded,
    ServiceState,
)
from services.lifecycle_scheduler.domain.schedule import start_of_day

ItemKind = Literal["contract", "line", "entitlement"]
Transition = Literal["activation", "expiry"]
ACTIVATION: Transition = "activation"
EXPIRY: Transition = "expiry"
TERMINAL = (ServiceState.EXPIRED, ServiceState.CANCELED)


@dataclass(frozen=True)
class Timer:
    """One transition of one item, due when the date `due_on` begins in the contract's zone."""

    item_kind: ItemKind
    item_id: UUID
    transition: Transition
    due_on: dt.date
    due_at: dt.datetime
    line_id: UUID | None = None  # the line an entitlement is attached to

    def rezoned(self, time_zone: str) -> "Timer":
        return Timer(self.item_kind, self.item_id, self.transition, self.due_on,
                     start_of_day(self.due_on, time_zone), self.line_id)


def activation(item_kind: ItemKind, item_id: UUID, start_date: dt.date, time_zone: str,
               line_id: UUID | None = None) -> Timer:
    return Timer(item_kind, item_id, ACTIVATION, start_date, start_of_day(start_date, time_zone), line_id)


def expiry(item_kind: ItemKind, item_id: UUID, end_date: dt.date, time_zone: str,
           line_id: UUID | None = None) -> Timer:
    """The end date is the last day in force: expiry is due when the next day begins."""
    due_on = end_date + dt.timedelta(days=1)
    return Timer(item_kind, item_id, EXPIRY, due_on, start_of_day(due_on, time_zone), line_id)


def item_timers(item_kind: ItemKind, item_id: UUID, start_date: dt.date, end_date: dt.date, state: ServiceState,
                time_zone: str, line_id: UUID | None = None) -> list[Timer]:
    """The timers an item in `state` needs: none once expired or canceled, no activation once active."""
    if state in TERMINAL:
        return []
    timers = [] if state == ServiceState.ACTIVE else [activation(item_kind, item_id, start_date, time_zone, line_id)]
    return timers + [expiry(item_kind, item_id, end_date, time_zone, line_id)]


def line_timers(line: ContractLineTerms, time_zone: str) -> list[Timer]:
    return item_timers("line", line.line_id, line.start_date, line.end_date, line.state, time_zone)


def entitlement_timers(entitlement: EntitlementTerms, time_zone: str) -> list[Timer]:
    return item_timers("entitlement", entitlement.entitlement_id, entitlement.start_date, entitlement.end_date,
                       entitlement.state, time_zone, line_id=entitlement.line_id)


def contract_timers(event: ServiceContractDrafted | ServiceContractRecorded) -> list[Timer]:
    """A new service contract is a draft: the contract's timers and those of every item it came with."""
    zone = event.time_zone
    timers = item_timers("contract", event.contract_id, event.start_date, event.end_date, ServiceState.DRAFT, zone)
    for line in getattr(event, "lines", ()):
        timers += line_timers(line, zone)
    for entitlement in getattr(event, "entitlements", ()):
        timers += entitlement_timers(entitlement, zone)
    return timers


_KIND_ORDER = {"contract": 0, "line": 1, "entitlement": 2}


class ServiceContractTimetable(Aggregate):
    """The stream of dates reached for one service contract.

    Nothing it decides depends on its past (every due timer is reported), so a sweep resumes it
    from its stream version alone (`at_version`) instead of replaying it; `rehydrate` still gives
    the full state to readers.
    """

    stream_type = "service_contract_timetable"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.last_date_reached: dt.date | None = None

    @staticmethod
    def stream_id(contract_id: UUID) -> str:
        # Not str(contract_id): that is the legal contract's ContractSchedule stream.
        return f"service-contract-timetable:{contract_id}"

    @classmethod
    def for_contract(cls, contract_id: UUID) -> Self:
        return cls(cls.stream_id(contract_id))

    @classmethod
    def at_version(cls, contract_id: UUID, version: int) -> Self:
        timetable = cls.for_contract(contract_id)
        timetable.version = version
        return timetable

    @property
    def contract_id(self) -> UUID:
        return UUID(self.id.rsplit(":", 1)[1])

    def reach(self, fired: Iterable[Timer], time_zone: str, now: dt.datetime) -> None:
        """Timers fell due together: one event naming the latest date they reached and each of them."""
        fired = sorted(fired, key=lambda t: (t.due_at, _KIND_ORDER[t.item_kind], str(t.item_id), t.transition))
        if not fired:
            return
        self.record(
            ServiceContractDateReached(
                contract_id=self.contract_id,
                date=max(t.due_on for t in fired),
                time_zone=time_zone,
                reached_at=now,
                due=[DueTransition(item_kind=t.item_kind, item_id=t.item_id, transition=t.transition, due_at=t.due_at)
                     for t in fired],
            )
        )

    @applies
    def _on_date_reached(self, event: ServiceContractDateReached) -> None:
        self.last_date_reached = max(event.date, self.last_date_reached or event.date)
