"""A signature envelope's dates as time announces them: reminders to each pending signer every
`reminder_every_days` from their invitation (number 1, 2, ...), never at or past the envelope's
deadline, and the deadline itself; each announced once. clm mails the reminder (a fresh link) and
expires the envelope at the deadline unless it was completed."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.signature_dates import SignatureDeadlineReached, SignatureReminderDue


def reminder_at(invited_at: dt.datetime, every_days: int, number: int, deadline: dt.datetime) -> dt.datetime | None:
    """When reminder `number` (from 1) falls due, or None when it would fall at or past the
    deadline: the reminders end there."""
    due = invited_at + dt.timedelta(days=every_days * number)
    return due if due < deadline else None


def latest_number(invited_at: dt.datetime, every_days: int, number: int, deadline: dt.datetime,
                  now: dt.datetime) -> int:
    """The reminder to send when reminder `number` is due at `now`: itself, or the latest one due by
    then when the sweep came late (a signer gets one reminder, not each one missed)."""
    while (due := reminder_at(invited_at, every_days, number + 1, deadline)) is not None and due <= now:
        number += 1
    return number


def reminders(invited_at: dt.datetime, every_days: int, deadline: dt.datetime) -> list[dt.datetime]:
    """The whole sequence of a signer who never signs (for the docs and tests)."""
    found, number = [], 1
    while (due := reminder_at(invited_at, every_days, number, deadline)) is not None:
        found.append(due)
        number += 1
    return found


class SignatureDates(Aggregate):
    stream_type = "signature_dates"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reminded: set[tuple[UUID, int]] = set()  # (signer, number) announced
        self.deadline_reached = False

    @staticmethod
    def stream_id(envelope_id: UUID) -> str:
        # Not str(envelope_id): streams of every kind are named apart.
        return f"signature-dates:{envelope_id}"

    @classmethod
    def for_envelope(cls, envelope_id: UUID) -> "SignatureDates":
        return cls(cls.stream_id(envelope_id))

    @property
    def envelope_id(self) -> UUID:
        return UUID(self.id.split(":", 1)[1])

    def remind(self, contract_id: UUID, signer_id: UUID, number: int, due_at: dt.datetime) -> bool:
        if (signer_id, number) in self.reminded:
            return False
        self.record(SignatureReminderDue(envelope_id=self.envelope_id, contract_id=contract_id, signer_id=signer_id,
                                         number=number, due_at=due_at))
        return True

    def reach_deadline(self, contract_id: UUID, deadline: dt.datetime) -> bool:
        if self.deadline_reached:
            return False
        self.record(SignatureDeadlineReached(envelope_id=self.envelope_id, contract_id=contract_id, deadline=deadline))
        return True

    @applies
    def _on_reminder(self, event: SignatureReminderDue) -> None:
        self.reminded.add((event.signer_id, event.number))

    @applies
    def _on_deadline(self, event: SignatureDeadlineReached) -> None:
        self.deadline_reached = True
