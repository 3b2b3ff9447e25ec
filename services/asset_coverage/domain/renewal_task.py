"""A renewal task: one per contract period (contract id + end date), opened at the period's first
renewal deadline, assigned to the contract's owners; it records each later deadline until someone
completes it, or it is superseded when the end date moves or the contract ends."""

import datetime as dt
from enum import StrEnum
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState
from shared.events.renewal_tasks import (
    RenewalTaskCompleted, RenewalTaskDeadlineReached, RenewalTaskOpened, RenewalTaskSuperseded, renewal_task_id,
)
from services.asset_coverage.domain import rules

# A task without owners goes to the role accountable for renewals.
UNOWNED_ASSIGNEE = "role:asset_manager"


class TaskState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    SUPERSEDED = "superseded"


class RenewalTask(Aggregate):
    stream_type = "renewal_task"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.contract_id: UUID | None = None
        self.end_date: dt.date | None = None
        self.title = ""
        self.assignees: list[str] = []
        self.state: TaskState | None = None
        self.deadlines: list[int] = []  # days before the end, in the order reached
        self.completed_by: str | None = None
        self.note: str | None = None
        self.superseded_because: str | None = None

    @property
    def task_id(self) -> UUID:
        return UUID(self.id)

    @classmethod
    def open(cls, contract_id: UUID, end_date: dt.date, days_before: int, title: str,
             owners: list[str]) -> "RenewalTask":
        task = cls(str(renewal_task_id(contract_id, end_date)))
        task.record(RenewalTaskOpened(task_id=task.task_id, contract_id=contract_id, end_date=end_date,
                                      days_before=days_before, title=title,
                                      assignees=list(dict.fromkeys(owners)) or [UNOWNED_ASSIGNEE]))
        return task

    def reach_deadline(self, days_before: int) -> bool:
        """Records a later deadline of an open task, once; a done task records nothing."""
        if self.state is not TaskState.OPEN or days_before in self.deadlines:
            return False
        self.record(RenewalTaskDeadlineReached(task_id=self.task_id, days_before=days_before))
        return True

    def may_be_completed_by(self, subject: str, roles: frozenset[str]) -> bool:
        return "asset_manager" in roles or subject in self.assignees or any(f"role:{r}" in self.assignees for r in roles)

    def complete(self, by: str, note: str | None) -> bool:
        """False for a task already completed (a retried request); a superseded task cannot be."""
        if self.state is TaskState.COMPLETED:
            return False
        if self.state is TaskState.SUPERSEDED:
            raise ConflictingState(rules.RENEWAL_TASK_SUPERSEDED,
                                   f"renewal task {self.id} was superseded ({self.superseded_because})")
        self.record(RenewalTaskCompleted(task_id=self.task_id, by=by, note=note))
        return True

    def supersede(self, reason: str) -> bool:
        if self.state is not TaskState.OPEN:
            return False
        self.record(RenewalTaskSuperseded(task_id=self.task_id, reason=reason))
        return True

    @applies
    def _on_opened(self, event: RenewalTaskOpened) -> None:
        self.contract_id, self.end_date, self.title = event.contract_id, event.end_date, event.title
        self.assignees, self.state, self.deadlines = list(event.assignees), TaskState.OPEN, [event.days_before]

    @applies
    def _on_deadline(self, event: RenewalTaskDeadlineReached) -> None:
        self.deadlines.append(event.days_before)

    @applies
    def _on_completed(self, event: RenewalTaskCompleted) -> None:
        self.state, self.completed_by, self.note = TaskState.COMPLETED, event.by, event.note

    @applies
    def _on_superseded(self, event: RenewalTaskSuperseded) -> None:
        self.state, self.superseded_because = TaskState.SUPERSEDED, event.reason
