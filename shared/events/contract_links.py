"""Events linking contracts (services/clm, phase 7), on the new contract's stream: an amendment
of a parent (whose terms it overrides from `effective_date`), or the successor a "renew" created
from its predecessor (prefilled from it, through the normal request -> approval -> signature flow;
asset_coverage carries the predecessor's asset coverage over when the successor is activated)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from shared.events import topics
from shared.events.base import Event


class ContractLinked(Event):
    """The first event after ContractRequested on an amendment's or a successor's stream."""

    event_type = "ContractLinked"
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID
    relation: Literal["amendment", "successor"]
    parent_id: UUID
    effective_date: dt.date
    linked_by: str
    at: dt.datetime
