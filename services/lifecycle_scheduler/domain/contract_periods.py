"""A legal contract's periods as time sees them: whether it renews tacitly at the end of the
current period, when its reminders before the cancel-by and end dates fall due, and what has been
announced (ContractPeriodEnded, ContractReminderDue), each once.

The periods' dates come whole from clm (RenewalTermsSet, ContractRenewed): nothing here computes
a deadline. "Reached" is the start of that day in the contract's zone; the period end is reached
at the start of the day after its end date. Of an anchor's reminders due at once (terms set late,
the scheduler down) only the latest (fewest days before) is announced; the others are skipped.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import is_plannable
from shared.events.contract_periods import ContractPeriodEnded, ContractReminderDue
from shared.events.renewal_terms import ContractPeriod, ReminderAnchor
from services.lifecycle_scheduler.domain.renewal_deadlines import to_announce  # noqa: F401 (re-exported)
from services.lifecycle_scheduler.domain.schedule import expiry_instant, start_of_day

PERIOD_END = "period_end"  # the timer of the period's end, beside the reminders' anchors
ANCHORS: tuple[ReminderAnchor, ...] = ("cancel_by", "end")
AtPeriodEnd = Literal["renew", "expire"]


@dataclass(frozen=True)
class PeriodState:
    """What the scheduler knows of a contract's renewal terms, from clm's events."""

    renewal: Literal["tacit", "express"]
    max_renewals: int | None
    renewals: int
    period: ContractPeriod
    notice_period: int | None = None  # the period a TerminationNoticeGiven ends the contract at
    acknowledged: frozenset[tuple[int, str]] = field(default_factory=frozenset)  # (period, anchor)


def renews_tacitly(state: PeriodState) -> bool:
    """Tacit, renewals left, and no notice for the current period."""
    renewals_left = state.max_renewals is None or state.renewals < state.max_renewals
    return state.renewal == "tacit" and renewals_left and state.notice_period != state.period.number


def at_period_end(state: PeriodState) -> AtPeriodEnd:
    return "renew" if renews_tacitly(state) else "expire"


def anchor_date(period: ContractPeriod, anchor: ReminderAnchor) -> dt.date:
    return period.cancel_by if anchor == "cancel_by" else period.end_date


def reminder_instant(day: dt.date, days_before: int, time_zone: str) -> dt.datetime | None:
    """The start of the day `days_before` before `day`, if that day can be planned."""
    try:
        reminded = day - dt.timedelta(days=days_before)
    except OverflowError:
        return None
    return start_of_day(reminded, time_zone) if is_plannable(reminded) else None


def period_end_instant(period: ContractPeriod, time_zone: str) -> dt.datetime:
    return expiry_instant(period.end_date, time_zone)


@dataclass(frozen=True)
class PlannedTimer:
    period_number: int
    anchor: str  # cancel_by | end | period_end
    days_before: int
    anchor_date: dt.date
    due_at: dt.datetime


def planned_timers(state: PeriodState, time_zone: str, offsets: list[int]) -> list[PlannedTimer]:
    """The current period's timers: its end, and a reminder per offset before each anchor not
    acknowledged. A contract given notice for this period is reminded of nothing more; when the
    cancel-by date is the end date (no notice period, no lead time: every contract whose terms were
    derived at activation) only the end's reminders go out, not two mails a day."""
    period = state.period
    timers = [PlannedTimer(period.number, PERIOD_END, 0, period.end_date, period_end_instant(period, time_zone))]
    if state.notice_period == period.number:
        return timers
    for anchor in ANCHORS:
        if (period.number, anchor) in state.acknowledged:
            continue
        day = anchor_date(period, anchor)
        if anchor == "cancel_by" and day == period.end_date:
            continue
        for days in sorted(set(offsets), reverse=True):
            if (at := reminder_instant(day, days, time_zone)) is not None:
                timers.append(PlannedTimer(period.number, anchor, days, day, at))
    return timers


class ContractPeriods(Aggregate):
    stream_type = "contract_periods"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.ended: set[int] = set()
        self.reminded: set[tuple[int, str, int]] = set()

    @staticmethod
    def stream_id(contract_id: UUID) -> str:
        # Not str(contract_id): the legal contract's ContractSchedule has that stream.
        return f"contract-periods:{contract_id}"

    @classmethod
    def for_contract(cls, contract_id: UUID) -> "ContractPeriods":
        return cls(cls.stream_id(contract_id))

    @property
    def contract_id(self) -> UUID:
        return UUID(self.id.split(":", 1)[1])

    def end_period(self, period: ContractPeriod, time_zone: str) -> bool:
        """Once per period: clm renews once per period end."""
        if period.number in self.ended:
            return False
        self.record(ContractPeriodEnded(contract_id=self.contract_id, period_number=period.number,
                                        end_date=period.end_date, reached_at=period_end_instant(period, time_zone)))
        return True

    def remind(self, period_number: int, anchor: ReminderAnchor, day: dt.date, days_before: int,
               recipients: list[str], reached_at: dt.datetime) -> bool:
        """Once per (period, anchor, offset): a timer that fires again records nothing."""
        if (period_number, anchor, days_before) in self.reminded:
            return False
        self.record(ContractReminderDue(contract_id=self.contract_id, period_number=period_number, anchor=anchor,
                                        anchor_date=day, days_before=days_before, recipients=recipients,
                                        reached_at=reached_at))
        return True

    @applies
    def _on_period_ended(self, event: ContractPeriodEnded) -> None:
        self.ended.add(event.period_number)

    @applies
    def _on_reminder_due(self, event: ContractReminderDue) -> None:
        self.reminded.add((event.period_number, event.anchor, event.days_before))
