"""Events of signature dates (services/lifecycle_scheduler): one stream per envelope
(`envelope_id`). Reminders to each pending signer every `reminder_every_days` from their
invitation, and the envelope's deadline, each announced once."""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class _SignatureDateEvent(Event):
    topic = topics.LIFECYCLE_SIGNATURE_DATES
    source = "/services/lifecycle_scheduler"
    key_field = "envelope_id"
    envelope_id: UUID
    contract_id: UUID


class SignatureReminderDue(_SignatureDateEvent):
    """The signer has not signed `number` x reminder_every_days after their invitation: clm mails
    them a fresh link."""

    event_type = "SignatureReminderDue"
    signer_id: UUID
    number: int = Field(ge=1, description="1 for the first reminder, 2 for the second, ...")
    due_at: dt.datetime


class SignatureDeadlineReached(_SignatureDateEvent):
    """The envelope's deadline passed; clm expires it unless it was completed."""

    event_type = "SignatureDeadlineReached"
    deadline: dt.datetime
