"""Events of renewal terms and contract periods (services/clm, phase 7), on the contract's stream.

Dates are calendar dates in the contract's `time_zone`; an end date is the period's last day
(inclusive). Every event that starts or changes a period carries that period whole
(`ContractPeriod`): consumers never compute deadlines themselves. The arithmetic and its rules
(month ends, leap days, zones) are in docs/contracting/renewals.md."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event

RenewalKind = Literal["tacit", "express"]
ReminderAnchor = Literal["cancel_by", "end"]


class ContractPeriod(BaseModel):
    number: int = Field(ge=1, description="1 for the initial term, 2 after the first renewal, ...")
    start_date: dt.date
    end_date: dt.date = Field(description="the period's last day (inclusive)")
    notice_deadline: dt.date = Field(description="the last day a termination notice ends the contract at end_date")
    cancel_by: dt.date = Field(description="notice_deadline minus the internal lead time: when to decide")


class RenewalTerms(BaseModel):
    """Durations are ISO 8601 (`P12M`, `P1Y`, `P90D`, `P3M`, `P1Y6M`); no time parts."""

    initial_term: str = Field(examples=["P12M"])
    renewal_term: str | None = Field(None, description="the length of each renewal; the initial term when absent",
                                     examples=["P12M"])
    renewal: RenewalKind = Field(description="tacit: renews unless notice is given; express: ends unless renewed")
    notice_period: str = Field(examples=["P90D"])
    lead_time: str = Field("P0D", description="internal lead time before the notice deadline", examples=["P30D"])
    max_renewals: int | None = Field(None, ge=0, description="tacit renewals allowed; unlimited when absent")
    reminder_offsets_days: list[int] = Field(default_factory=lambda: [90, 60, 30, 0],
                                             description="days before the cancel-by date and before the end date")
    owners: list[str] = Field(min_length=1, description="user ids, e-mail addresses or role:<name>: who is reminded")


class _ContractPeriodEvent(Event):
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID


class RenewalTermsSet(_ContractPeriodEvent):
    """The contract's renewal terms were set (by hand before activation, or from the executed terms
    at activation when nobody set them). `period` is the current period under these terms."""

    event_type = "RenewalTermsSet"
    terms: RenewalTerms
    start_date: dt.date
    time_zone: str
    period: ContractPeriod
    origin: Literal["manual", "executed_terms"] = "manual"
    set_by: str
    at: dt.datetime


class ContractRenewed(_ContractPeriodEvent):
    """A period ended without a termination notice and the contract renewed tacitly (once per
    period end): `period` is the new one, `renewals` the count so far."""

    event_type = "ContractRenewed"
    previous_end_date: dt.date
    period: ContractPeriod
    renewals: int = Field(ge=1)
    at: dt.datetime


class TerminationNoticeGiven(_ContractPeriodEvent):
    """Notice was given on or before the period's notice deadline: the contract ends at `end_date`
    (the current period's end) instead of renewing."""

    event_type = "TerminationNoticeGiven"
    period_number: int = Field(ge=1)
    given_on: dt.date = Field(description="the day notice was given, in the contract's zone")
    end_date: dt.date
    reason: str | None = None
    given_by: str
    at: dt.datetime


class RenewalReminderAcknowledged(_ContractPeriodEvent):
    """Someone took the reminders of a period's cancel-by or end date in hand: they stop repeating
    (no further offsets of that anchor either)."""

    event_type = "RenewalReminderAcknowledged"
    period_number: int = Field(ge=1)
    anchor: ReminderAnchor
    note: str | None = None
    acknowledged_by: str
    at: dt.datetime
