"""An obligation under a contract (phase 7): a duty due once or on a recurrence, whose occurrences
are tasks identified by their due dates. Its own aggregate and stream (a contract may have
hundreds of occurrences). Occurrence state is derived, never stored: upcoming before its due
date, due on it, overdue after it (dates in the obligation's zone), completed once
ObligationOccurrenceCompleted names it. The scheduler times the due and overdue notices
(services/lifecycle_scheduler/domain/obligation_dates.py)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from dateutil.rrule import rrulestr

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import EARLIEST_DATE, LATEST_DATE, is_plannable
from shared.backbone.errors import ConflictingState, invalid
from shared.events.obligations import (
    EvidenceDocument, ObligationCanceled, ObligationKind, ObligationOccurrenceCompleted, ObligationRecorded,
    Recurrence,
)
from services.clm.domain import rules

OccurrenceState = Literal["upcoming", "due", "overdue", "completed"]
Origin = Literal["manual", "executed_terms"]
SUB_DAILY = ("HOURLY", "MINUTELY", "SECONDLY")
TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February's leap day counts


def _never_matches(parts: dict[str, str]) -> bool:
    """BYMONTHDAY days that none of the BYMONTH months has (30 February): python-dateutil would
    search to the year 9999 for them (seconds of CPU per request), so they are refused up front."""
    if "BYMONTH" not in parts or "BYMONTHDAY" not in parts:
        return False
    try:
        months = [int(m) for m in parts["BYMONTH"].split(",")]
        days = [int(d) for d in parts["BYMONTHDAY"].split(",")]
    except ValueError:
        return False  # the parser names it
    if any(not 1 <= m <= 12 for m in months) or any(d == 0 or abs(d) > 31 for d in days):
        return False
    return not any(abs(d) <= DAYS_IN_MONTH[m - 1] for m in months for d in days)
# The windows looked back over for the latest occurrences before a day, widest last (then from the start).
LOOK_BACK_DAYS = (40, 400, 4000)


def check_recurrence(recurrence: Recurrence) -> None:
    """One RRULE value, daily or coarser, without DTSTART, yielding at least one date."""
    text = recurrence.rrule.strip()
    upper = text.upper()
    if not text or "\n" in text or "\r" in text or "DTSTART" in upper:
        raise invalid(rules.OBLIGATION_RRULE_INVALID, "give one RRULE value without DTSTART (recurrence.start is it)",
                      field="recurrence.rrule")
    parts = dict(p.split("=", 1) for p in upper.removeprefix("RRULE:").split(";") if "=" in p)
    if parts.get("FREQ") in SUB_DAILY or any(name in parts for name in TIME_PARTS):
        raise invalid(rules.OBLIGATION_RRULE_INVALID, "an obligation falls due on days: FREQ=DAILY or coarser, no "
                      "BYHOUR/BYMINUTE/BYSECOND", field="recurrence.rrule")
    try:
        rrulestr(text, dtstart=dt.datetime.combine(recurrence.start, dt.time()))
    except (ValueError, TypeError) as exc:
        raise invalid(rules.OBLIGATION_RRULE_INVALID, f"the RRULE does not parse: {exc}", field="recurrence.rrule") from None
    if _never_matches(parts):
        raise invalid(rules.OBLIGATION_RRULE_EMPTY, "no month of BYMONTH has a day of BYMONTHDAY",
                      field="recurrence.rrule")
    if not is_plannable(recurrence.start):
        raise invalid(rules.DATES_OUT_OF_RANGE, f"{recurrence.start} lies outside {EARLIEST_DATE}..{LATEST_DATE}",
                      field="recurrence.start")
    if not recurrence.occurrences(limit=1):  # lazy: an open rule is not expanded
        raise invalid(rules.OBLIGATION_RRULE_EMPTY, "the RRULE yields no occurrence", field="recurrence.rrule")


def latest_before(recurrence: Recurrence, day: dt.date, count: int) -> list[dt.date]:
    """The last `count` occurrences before `day`, oldest first: looked for in widening windows, so
    a daily rule of many years is not expanded from its start."""
    for days in LOOK_BACK_DAYS:
        low = day - dt.timedelta(days=days)
        found = recurrence.occurrences(after=low, until=day - dt.timedelta(days=1), limit=100_000)
        if len(found) >= count or low <= recurrence.start:
            return found[-count:] if count else []
    return recurrence.occurrences(until=day - dt.timedelta(days=1), limit=1_000_000)[-count:]


class Obligation(Aggregate):
    stream_type = "obligation"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.recorded: ObligationRecorded | None = None
        self.canceled: ObligationCanceled | None = None
        self.completed: dict[dt.date, ObligationOccurrenceCompleted] = {}

    @property
    def obligation_id(self) -> UUID:
        return UUID(self.id)

    @classmethod
    def record_new(cls, obligation_id: UUID, *, contract_id: UUID, kind: ObligationKind, description: str,
                   owners: list[str], due_date: dt.date | None, recurrence: Recurrence | None, time_zone: str,
                   source_clause: str | None, origin: Origin, by: str, at: dt.datetime) -> "Obligation":
        if (due_date is None) == (recurrence is None):
            raise invalid(rules.OBLIGATION_DUE_DATE_OR_RECURRENCE, "give exactly one of due_date and recurrence",
                          field="due_date")
        if due_date is not None and not is_plannable(due_date):
            raise invalid(rules.DATES_OUT_OF_RANGE, f"{due_date} lies outside {EARLIEST_DATE}..{LATEST_DATE}",
                          field="due_date")
        if recurrence is not None:
            check_recurrence(recurrence)
        owners = list(dict.fromkeys(o.strip() for o in owners if o.strip()))
        if not owners:
            raise invalid(rules.OBLIGATION_OWNERS_REQUIRED, "name at least one owner (user id, e-mail or role:<name>)",
                          field="owners")
        if not description.strip():
            raise invalid(rules.OBLIGATION_DESCRIPTION_REQUIRED, "say what is owed", field="description")
        obligation = cls(str(obligation_id))
        obligation.record(ObligationRecorded(
            obligation_id=obligation_id, contract_id=contract_id, kind=kind, description=description.strip(),
            owners=owners, due_date=due_date, recurrence=recurrence, time_zone=time_zone, source_clause=source_clause,
            origin=origin, recorded_by=by, at=at))
        return obligation

    # -- occurrences ----------------------------------------------------------------------------------

    @property
    def recurrence(self) -> Recurrence | None:
        return self.recorded.recurrence

    def is_occurrence(self, day: dt.date) -> bool:
        if self.recurrence is None:
            return day == self.recorded.due_date
        return self.recurrence.occurrences(after=day, until=day, limit=1) == [day]

    def occurrences(self, low: dt.date, high: dt.date | None, limit: int = 500) -> list[dt.date]:
        """At most `limit` due dates from `low` to `high`, both inclusive (expanded lazily from `low`:
        a wide range of a daily rule costs `limit` dates, not the range)."""
        if self.recurrence is None:
            due = self.recorded.due_date
            return [due] if low <= due and (high is None or due <= high) else []
        return [d for d in self.recurrence.occurrences(after=low, limit=limit) if high is None or d <= high]

    def around(self, today: dt.date, before: int = 3, after: int = 5) -> list[dt.date]:
        """The last `before` occurrences before today and the next `after` from today on."""
        if self.recurrence is None:
            return [self.recorded.due_date]
        return latest_before(self.recurrence, today, before) + self.recurrence.occurrences(after=today, limit=after)

    def state_of(self, day: dt.date, today: dt.date) -> OccurrenceState:
        if day in self.completed:
            return "completed"
        return "upcoming" if today < day else "due" if today == day else "overdue"

    # -- commands -------------------------------------------------------------------------------------

    def complete(self, due_on: dt.date, *, note: str, evidence: EvidenceDocument | None, by: str,
                 at: dt.datetime) -> bool:
        """False when that occurrence was completed already (a retry changes nothing)."""
        if due_on in self.completed:
            return False
        if self.canceled is not None:
            raise ConflictingState(rules.OBLIGATION_CANCELED, f"obligation {self.id} was canceled at {self.canceled.at}")
        if not self.is_occurrence(due_on):
            raise invalid(rules.OBLIGATION_NOT_AN_OCCURRENCE, f"the obligation does not fall due on {due_on}",
                          field="due_on")
        self.record(ObligationOccurrenceCompleted(
            obligation_id=self.obligation_id, contract_id=self.recorded.contract_id, due_on=due_on, note=note,
            evidence=evidence, completed_by=by, at=at))
        return True

    def cancel(self, *, reason: str | None, by: str, at: dt.datetime) -> bool:
        """False when canceled already."""
        if self.canceled is not None:
            return False
        self.record(ObligationCanceled(obligation_id=self.obligation_id, contract_id=self.recorded.contract_id,
                                       reason=reason, canceled_by=by, at=at))
        return True

    def may_complete(self, subject: str, email: str | None, roles: set[str]) -> bool:
        """An owner: their subject or e-mail, or role:<one of their roles>, among the owners."""
        owners = {o.lower() for o in self.recorded.owners}
        mine = {subject.lower(), *(f"role:{r}".lower() for r in roles)} | ({email.lower()} if email else set())
        return bool(owners & mine)

    @applies
    def _on_recorded(self, event: ObligationRecorded) -> None:
        self.recorded = event

    @applies
    def _on_canceled(self, event: ObligationCanceled) -> None:
        self.canceled = event

    @applies
    def _on_completed(self, event: ObligationOccurrenceCompleted) -> None:
        self.completed[event.due_on] = event
