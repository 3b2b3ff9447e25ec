"""Events of obligation dates (services/lifecycle_scheduler, phase 7): one stream per obligation
(`obligation_id`) on its own topic. An occurrence's due day began (ObligationDue), and its due day
ended without completion (ObligationOverdue), repeated every OBLIGATION_OVERDUE_REPEAT_DAYS until
completed or canceled, escalating to the accountable role from OBLIGATION_ESCALATE_AFTER on."""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event
from shared.events.obligations import ObligationKind


class _ObligationDateEvent(Event):
    topic = topics.LIFECYCLE_OBLIGATION_DATES
    source = "/services/lifecycle_scheduler"
    key_field = "obligation_id"
    obligation_id: UUID
    contract_id: UUID
    due_on: dt.date


class ObligationDue(_ObligationDateEvent):
    """The occurrence's due day began in the obligation's zone: its owners are told."""

    event_type = "ObligationDue"
    kind: ObligationKind
    description: str
    owners: list[str]
    reached_at: dt.datetime


class ObligationOverdue(_ObligationDateEvent):
    """The occurrence is not completed: the `number`th overdue notice (1 when its due day ended).
    `escalated` once the accountable role is among `recipients`."""

    event_type = "ObligationOverdue"
    number: int = Field(ge=1)
    recipients: list[str]
    escalated: bool
    reached_at: dt.datetime
