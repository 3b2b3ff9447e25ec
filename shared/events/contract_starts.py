"""Events of executed contracts' start dates (services/lifecycle_scheduler): one stream per
contract on its own topic (the contract id keys the expiry schedule's stream already)."""

import datetime as dt
from uuid import UUID

from shared.events import topics
from shared.events.base import Event


class ContractStartReached(Event):
    """The executed contract's start date began in its time zone (at once when it lies in the
    past at execution): clm checks order readiness and activates it."""

    event_type = "ContractStartReached"
    topic = topics.LIFECYCLE_CONTRACT_STARTS
    source = "/services/lifecycle_scheduler"
    key_field = "contract_id"
    contract_id: UUID
    start_date: dt.date
    time_zone: str
    reached_at: dt.datetime
