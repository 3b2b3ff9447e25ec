"""Events of contract periods (services/lifecycle_scheduler, phase 7): one stream per legal
contract (`contract_id`) on its own topic. A period's end when the contract would renew tacitly,
and the reminders before its cancel-by and end dates (RenewalTerms.reminder_offsets_days), each
announced once. Reached means: that day began in the contract's time zone."""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event
from shared.events.renewal_terms import ReminderAnchor


class _ContractPeriodDateEvent(Event):
    topic = topics.LIFECYCLE_CONTRACT_PERIODS
    source = "/services/lifecycle_scheduler"
    key_field = "contract_id"
    contract_id: UUID


class ContractPeriodEnded(_ContractPeriodDateEvent):
    """The day after `end_date` began and the contract renews tacitly (no notice, renewals left):
    clm records ContractRenewed. A contract that does not renew gets ContractExpired instead
    (lifecycle_scheduler.schedules.v1), as before phase 7."""

    event_type = "ContractPeriodEnded"
    period_number: int = Field(ge=1)
    end_date: dt.date
    reached_at: dt.datetime


class ContractReminderDue(_ContractPeriodDateEvent):
    """`days_before` days before the period's cancel-by (or end) date began. The scheduler's
    notification channel reminds `recipients` (series `contract_reminder:<contract>/<period>/<anchor>`)
    until RenewalReminderAcknowledged, a renewal or the end stops it."""

    event_type = "ContractReminderDue"
    period_number: int = Field(ge=1)
    anchor: ReminderAnchor
    anchor_date: dt.date
    days_before: int = Field(ge=0)
    recipients: list[str]
    reached_at: dt.datetime
