"""Events of time (services/lifecycle_scheduler): timers scheduled and fired."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event


class _ScheduleEvent(Event):
    topic = topics.LIFECYCLE_SCHEDULES
    source = "/services/lifecycle_scheduler"
    key_field = "contract_id"
    contract_id: UUID


class ExpiryScheduled(_ScheduleEvent):
    """The contract will expire at `due_at`: the start of the day after its end date, in its zone."""

    event_type = "ExpiryScheduled"
    end_date: dt.date
    time_zone: str
    due_at: dt.datetime


class ContractExpired(_ScheduleEvent):
    """The contract's end date has passed. Terminal: nothing more can be done to it."""

    event_type = "ContractExpired"
    end_date: dt.date
    expired_at: dt.datetime


class DueTransition(BaseModel):
    item_kind: Literal["contract", "line", "entitlement"]
    item_id: UUID
    transition: Literal["activation", "expiry"]
    due_at: dt.datetime


class ServiceContractDateReached(_ScheduleEvent):
    """Timers of a service contract fell due: the calendar date `date` has begun in its time zone.

    Order sync answers by bringing the contract and its items to the state their dates give on
    `date` (activations at start dates, expiries after end dates). `due` lists the timers that
    fired; applying the same date twice changes nothing.
    """

    event_type = "ServiceContractDateReached"
    # Its own topic: see topics.LIFECYCLE_SERVICE_CONTRACT_DATES.
    topic = topics.LIFECYCLE_SERVICE_CONTRACT_DATES
    date: dt.date
    time_zone: str
    reached_at: dt.datetime
    due: list[DueTransition]


class QuoteValidityEnded(Event):
    """A quote's valid-until date has ended: the next day has begun in the quote's time zone.

    Order sync answers by expiring the quote if it is still Draft and valid only until
    `valid_until`. Announced once per valid-until date; a quote revised to another date gets a
    timer for that one.
    """

    event_type = "QuoteValidityEnded"
    topic = topics.LIFECYCLE_QUOTE_DATES
    source = "/services/lifecycle_scheduler"
    key_field = "quote_id"
    quote_id: UUID
    valid_until: dt.date
    time_zone: str
    ended_at: dt.datetime = Field(description="the instant the day after valid_until began in the zone")
