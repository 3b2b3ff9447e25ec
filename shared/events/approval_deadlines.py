"""Events of approval SLAs (services/lifecycle_scheduler): one stream per approval step
(`step_id`); for each level of the step the warning point and the deadline announced once each.
clm records ApprovalAtRisk / ApprovalEscalated when the step is still open at that level."""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class _ApprovalDeadlineEvent(Event):
    topic = topics.LIFECYCLE_APPROVAL_DEADLINES
    source = "/services/lifecycle_scheduler"
    key_field = "step_id"
    step_id: UUID
    contract_id: UUID
    level: int = Field(ge=0)
    due_at: dt.datetime


class ApprovalStepAtRiskReached(_ApprovalDeadlineEvent):
    """The step's warning point (its at_risk_at) passed while it was open at `level`."""

    event_type = "ApprovalStepAtRiskReached"
    reached_at: dt.datetime


class ApprovalStepDeadlineReached(_ApprovalDeadlineEvent):
    """The step's deadline (its due_at) passed while it was open at `level`."""

    event_type = "ApprovalStepDeadlineReached"
    reached_at: dt.datetime
