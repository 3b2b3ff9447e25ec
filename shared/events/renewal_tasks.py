"""Events of renewal tasks (services/asset_coverage): one task per contract period (contract id +
end date), opened at the period's first renewal deadline, done when someone completes it, or
superseded when the end date moves or the contract ends (docs/design/operations.md). Keyed by
task_id; the scheduler's notification channel turns them into mails and webhooks."""

import datetime as dt
from typing import Literal
from uuid import UUID, uuid5

from pydantic import Field

from shared.events import topics
from shared.events.base import Event

RENEWAL_TASK_NAMESPACE = UUID("3b0f6f8e-8d54-5b7c-a1e2-4c1d7f9e2b60")


# The days before a period's end on which its renewal deadlines fall (RENEWAL_TASK_OFFSETS_DAYS,
# "90,60,30,0"): the scheduler announces them, asset_coverage's calendar feeds show them.
DEFAULT_OFFSETS_DAYS = (90, 60, 30, 0)


def parse_offsets(text: str) -> tuple[int, ...]:
    """"90,60,30,0" -> (90, 60, 30, 0): distinct, non-negative, largest first."""
    offsets = {int(part) for part in text.split(",") if part.strip()}
    if not offsets or min(offsets) < 0:
        raise ValueError(f"RENEWAL_TASK_OFFSETS_DAYS must list days >= 0, not {text!r}")
    return tuple(sorted(offsets, reverse=True))


def renewal_task_id(contract_id: UUID, end_date: dt.date) -> UUID:
    """One task per contract period: the scheduler's deadlines and asset_coverage find it alike."""
    return uuid5(RENEWAL_TASK_NAMESPACE, f"{contract_id}/{end_date.isoformat()}")


class _RenewalTaskEvent(Event):
    topic = topics.ASSET_COVERAGE_RENEWAL_TASKS
    source = "/services/asset_coverage"
    key_field = "task_id"
    task_id: UUID


class RenewalTaskOpened(_RenewalTaskEvent):
    """The period's first renewal deadline was reached: the contract's owners are to renew it."""

    event_type = "RenewalTaskOpened"
    contract_id: UUID
    end_date: dt.date
    days_before: int = Field(ge=0, description="the deadline that opened it: days before end_date")
    title: str
    assignees: list[str] = Field(description="user ids, e-mail addresses or role:<name>: the contract's owners")


class RenewalTaskDeadlineReached(_RenewalTaskEvent):
    """A later deadline of the open task was reached (e.g. 30 days before the end)."""

    event_type = "RenewalTaskDeadlineReached"
    days_before: int = Field(ge=0)


class RenewalTaskCompleted(_RenewalTaskEvent):
    """Someone renewed (or decided on) the contract: no more reminders."""

    event_type = "RenewalTaskCompleted"
    by: str
    note: str | None = None


class RenewalTaskSuperseded(_RenewalTaskEvent):
    """The period is gone: its end date moved (a new period, a new task) or the contract ended."""

    event_type = "RenewalTaskSuperseded"
    reason: Literal["end_date_moved", "contract_ended"]
