"""Events of time for operational contracts (services/lifecycle_scheduler): a vendor contract's
start date has begun, or the day after its end date has, in the contract's time zone. The
scheduler only announces the date, once per date; asset_coverage applies the rule (a Draft whose
start it still is becomes Active; a contract whose end it still is expires)."""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class _OperationalDateEvent(Event):
    topic = topics.LIFECYCLE_OPERATIONAL_CONTRACT_DATES
    source = "/services/lifecycle_scheduler"
    key_field = "contract_id"
    contract_id: UUID
    time_zone: str


class OperationalContractStartReached(_OperationalDateEvent):
    """The vendor contract's start date has begun in its zone."""

    event_type = "OperationalContractStartReached"
    start_date: dt.date
    reached_at: dt.datetime = Field(description="the instant the start date began in the zone")


class OperationalContractEndReached(_OperationalDateEvent):
    """The vendor contract's end date has passed: the next day has begun in its zone."""

    event_type = "OperationalContractEndReached"
    end_date: dt.date
    reached_at: dt.datetime = Field(description="the instant the day after end_date began in the zone")
