"""Events of renewal deadlines (services/lifecycle_scheduler): a contract period's deadline at a
configured offset before its end (RENEWAL_TASK_OFFSETS_DAYS) was reached. One stream per renewal
task (task_id = renewal_tasks.renewal_task_id), each deadline announced once."""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class RenewalDeadlineReached(Event):
    """`days_before` days before `end_date` began in the contract's time zone. asset_coverage opens
    the period's renewal task at the first one and records the later ones on it."""

    event_type = "RenewalDeadlineReached"
    topic = topics.LIFECYCLE_RENEWAL_DEADLINES
    source = "/services/lifecycle_scheduler"
    key_field = "task_id"
    task_id: UUID
    contract_id: UUID
    end_date: dt.date
    days_before: int = Field(ge=0)
    reached_at: dt.datetime = Field(description="the instant that day began in the contract's zone")
