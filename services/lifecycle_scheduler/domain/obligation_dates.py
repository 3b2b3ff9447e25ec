"""An obligation's dates as time announces them (phase 7): each occurrence falls due at the start
of its due day in the obligation's zone (ObligationDue to its owners) and, not completed by then,
is overdue at the start of the next day (ObligationOverdue number 1), again every
`repeat_days` days (number 2, 3, ...), from number `escalate_after` on also to the accountable
role. Timers are kept for the next occurrence only: when its due notice fires, the following
occurrence's due timer is set, so an occurrence can fall due while the previous one is still
overdue (each is its own task). Each notice is announced once; after downtime each occurrence
gets its own ObligationDue but only the latest overdue number that fell due."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.obligation_dates import ObligationDue, ObligationOverdue
from shared.events.obligations import ObligationKind, Recurrence
from services.lifecycle_scheduler.domain.schedule import start_of_day

ACCOUNTABLE = "role:contract_manager"  # RACI phase 7: the contract manager is accountable
# A recurrence recorded after some of its occurrences passed: the latest of them within this many
# days is timed (it is overdue: its owners hear of it once), earlier ones are not.
LOOK_BACK_DAYS = 400


def due_instant(due_on: dt.date, time_zone: str) -> dt.datetime:
    return start_of_day(due_on, time_zone)


def overdue_instant(due_on: dt.date, time_zone: str, number: int, repeat_days: int) -> dt.datetime:
    """Overdue notice `number` (from 1): the start of the day after the due day, then every
    `repeat_days` calendar days (in the zone, so a DST change moves no notice off midnight)."""
    return start_of_day(due_on + dt.timedelta(days=1 + (number - 1) * repeat_days), time_zone)


def latest_overdue_number(due_on: dt.date, time_zone: str, number: int, repeat_days: int, now: dt.datetime) -> int:
    """The notice to send when notice `number` fell due by `now`: the latest one due by then."""
    while overdue_instant(due_on, time_zone, number + 1, repeat_days) <= now:
        number += 1
    return number


def overdue_recipients(owners: list[str], number: int, escalate_after: int | None) -> tuple[list[str], bool]:
    """The owners, and from notice `escalate_after` on the accountable role too: (recipients, escalated)."""
    escalated = escalate_after is not None and number >= escalate_after
    return list(dict.fromkeys([*owners, *([ACCOUNTABLE] if escalated else [])])), escalated


def next_occurrence(due_date: dt.date | None, recurrence: Recurrence | None, after: dt.date | None,
                    completed: set[dt.date]) -> dt.date | None:
    """The first occurrence later than `after` (from the first one when None) not completed."""
    if recurrence is None:
        return due_date if (after is None or due_date > after) and due_date not in completed else None
    low = recurrence.start if after is None else after + dt.timedelta(days=1)
    found = recurrence.occurrences(after=low, limit=len(completed) + 1)
    return next((d for d in found if d not in completed), None)


def first_timed(due_date: dt.date | None, recurrence: Recurrence | None, recorded_on: dt.date,
                completed: set[dt.date]) -> dt.date | None:
    """Where an obligation's timers start: a one-off's due date (past or not); for a recurrence the
    latest occurrence before the day it was recorded within LOOK_BACK_DAYS, else the next one."""
    if recurrence is None:
        return next_occurrence(due_date, None, None, completed)
    past = recurrence.occurrences(after=recorded_on - dt.timedelta(days=LOOK_BACK_DAYS),
                                  until=recorded_on - dt.timedelta(days=1), limit=100_000)
    past = [d for d in past if d not in completed]
    if past:
        return past[-1]
    return next_occurrence(None, recurrence, recorded_on - dt.timedelta(days=1), completed)


class ObligationDates(Aggregate):
    stream_type = "obligation_dates"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.due: set[dt.date] = set()  # occurrences announced due
        self.overdue: dict[dt.date, int] = {}  # the latest overdue number announced per occurrence

    @staticmethod
    def stream_id(obligation_id: UUID) -> str:
        return f"obligation-dates:{obligation_id}"

    @classmethod
    def for_obligation(cls, obligation_id: UUID) -> "ObligationDates":
        return cls(cls.stream_id(obligation_id))

    @property
    def obligation_id(self) -> UUID:
        return UUID(self.id.split(":", 1)[1])

    def announce_due(self, contract_id: UUID, due_on: dt.date, *, kind: ObligationKind, description: str,
                     owners: list[str], reached_at: dt.datetime) -> bool:
        if due_on in self.due:
            return False
        self.record(ObligationDue(obligation_id=self.obligation_id, contract_id=contract_id, due_on=due_on, kind=kind,
                                  description=description, owners=owners, reached_at=reached_at))
        return True

    def announce_overdue(self, contract_id: UUID, due_on: dt.date, number: int, *, owners: list[str],
                         escalate_after: int | None, reached_at: dt.datetime) -> bool:
        if number <= self.overdue.get(due_on, 0):
            return False
        recipients, escalated = overdue_recipients(owners, number, escalate_after)
        self.record(ObligationOverdue(obligation_id=self.obligation_id, contract_id=contract_id, due_on=due_on,
                                      number=number, recipients=recipients, escalated=escalated,
                                      reached_at=reached_at))
        return True

    @applies
    def _on_due(self, event: ObligationDue) -> None:
        self.due.add(event.due_on)

    @applies
    def _on_overdue(self, event: ObligationOverdue) -> None:
        self.overdue[event.due_on] = event.number
