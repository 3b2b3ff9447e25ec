"""Events of obligations (services/clm, phase 7): one stream per obligation (`obligation_id`) on
`clm.obligations.v1`. An obligation is a duty under a contract (report, rebate, payment, ...) due
once (`due_date`) or on a recurrence (RFC 5545 RRULE from `recurrence.start`); each occurrence is a
task identified by its due date. `Recurrence.occurrences` is the one expansion every service uses
(python-dateutil), so clm, the scheduler and the calendar feeds agree on the dates."""

import datetime as dt
from itertools import islice
from typing import Literal
from uuid import UUID

from dateutil.rrule import rrulestr
from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event

ObligationKind = Literal["sla_credit_threshold", "report", "rebate", "volume_commitment", "notice", "audit",
                         "payment"]


class Recurrence(BaseModel):
    rrule: str = Field(description="an RFC 5545 RRULE value without DTSTART (e.g. FREQ=MONTHLY;BYMONTHDAY=-1)",
                       examples=["FREQ=MONTHLY;INTERVAL=3;COUNT=8"])
    start: dt.date = Field(description="DTSTART: the first possible occurrence (a date in the contract's zone)")

    def occurrences(self, after: dt.date | None = None, until: dt.date | None = None,
                    limit: int = 1000) -> list[dt.date]:
        """Due dates from `after` (inclusive, default start) to `until` (inclusive), at most `limit`."""
        rule = rrulestr(self.rrule, dtstart=dt.datetime.combine(self.start, dt.time()))
        low = dt.datetime.combine(max(after or self.start, self.start), dt.time())
        found = rule.xafter(low, inc=True) if until is None else rule.between(
            low, dt.datetime.combine(until, dt.time()), inc=True)
        return [d.date() for d in islice(found, limit)]


class EvidenceDocument(BaseModel):
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    filename: str
    media_type: str
    size: int = Field(ge=0)


class _ObligationEvent(Event):
    topic = topics.CLM_OBLIGATIONS
    source = "/services/clm"
    key_field = "obligation_id"
    obligation_id: UUID
    contract_id: UUID


class ObligationRecorded(_ObligationEvent):
    """An obligation on a contract, by hand or from the executed terms (`origin`). Exactly one of
    `due_date` and `recurrence` is set. An occurrence not completed by the end of its due day (in
    `time_zone`) is overdue."""

    event_type = "ObligationRecorded"
    kind: ObligationKind
    description: str
    owners: list[str] = Field(min_length=1, description="user ids, e-mail addresses or role:<name>")
    due_date: dt.date | None = None
    recurrence: Recurrence | None = None
    time_zone: str
    source_clause: str | None = Field(None, description="the clause key the obligation comes from, if any")
    origin: Literal["manual", "executed_terms"] = "manual"
    recorded_by: str
    at: dt.datetime


class ObligationCanceled(_ObligationEvent):
    """No further occurrences fall due; open ones stop reminding."""

    event_type = "ObligationCanceled"
    reason: str | None = None
    canceled_by: str
    at: dt.datetime


class ObligationOccurrenceCompleted(_ObligationEvent):
    """The occurrence due on `due_on` was met, with a note and optionally an evidence document
    (stored by clm, fetched with GET /api/v1/obligations/{id}/occurrences/{due_on}/evidence)."""

    event_type = "ObligationOccurrenceCompleted"
    due_on: dt.date
    note: str
    evidence: EvidenceDocument | None = None
    completed_by: str
    at: dt.datetime
