"""An approval step's SLA as time announces it: for each level the step is opened at (0: its own
approvers, n: the n-th escalation level) the warning point (`at_risk_at`) and the deadline
(`due_at`), each announced once. The scheduler only announces them (ApprovalStepAtRiskReached,
ApprovalStepDeadlineReached); clm records ApprovalAtRisk / ApprovalEscalated when the step is
still open at that level."""

import datetime as dt
from typing import Literal
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached

Mark = Literal["at_risk", "deadline"]
MARKS: tuple[Mark, ...] = ("at_risk", "deadline")


def marks_of(at_risk_at: dt.datetime, due_at: dt.datetime) -> dict[Mark, dt.datetime]:
    """When each mark of a level falls due. A warning point at or after the deadline warns nothing
    the deadline does not say: only the deadline is kept."""
    if at_risk_at >= due_at:
        return {"deadline": due_at}
    return {"at_risk": at_risk_at, "deadline": due_at}


class ApprovalDeadlines(Aggregate):
    stream_type = "approval_deadlines"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reached: set[tuple[int, Mark]] = set()  # (level, mark) announced

    @staticmethod
    def stream_id(step_id: UUID) -> str:
        # Not str(step_id): streams of every kind are named apart.
        return f"approval-deadlines:{step_id}"

    @classmethod
    def for_step(cls, step_id: UUID) -> "ApprovalDeadlines":
        return cls(cls.stream_id(step_id))

    @property
    def step_id(self) -> UUID:
        return UUID(self.id.split(":", 1)[1])

    def reach(self, contract_id: UUID, level: int, mark: Mark, at: dt.datetime, due_at: dt.datetime) -> bool:
        """Announces the mark of the level once: a timer fired again for it records nothing."""
        if (level, mark) in self.reached:
            return False
        event_class = ApprovalStepAtRiskReached if mark == "at_risk" else ApprovalStepDeadlineReached
        self.record(event_class(step_id=self.step_id, contract_id=contract_id, level=level, due_at=due_at,
                                reached_at=at))
        return True

    @applies
    def _on_at_risk(self, event: ApprovalStepAtRiskReached) -> None:
        self.reached.add((event.level, "at_risk"))

    @applies
    def _on_deadline(self, event: ApprovalStepDeadlineReached) -> None:
        self.reached.add((event.level, "deadline"))
