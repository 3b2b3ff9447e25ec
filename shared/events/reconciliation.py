"""Events of reconciliation (services/order_sync): what was signed (ContractActivated v2) against
what is active in order sync (the service contract's lines and entitlements). One stream per
contract on its own topic (`contract_id`)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event


class Difference(BaseModel):
    kind: Literal["line", "entitlement", "contract"]
    item: str = Field(description="the contract line id, entitlement (line id / name) or 'contract'")
    field: str = Field(examples=["quantity"])
    signed: str | None = Field(description="what the executed contract says (None: absent)")
    active: str | None = Field(description="what order sync has active (None: absent)")


class _ReconciliationEvent(Event):
    topic = topics.ORDER_SYNC_RECONCILIATION
    source = "/services/order_sync"
    key_field = "contract_id"
    contract_id: UUID


class ReconciliationMismatch(_ReconciliationEvent):
    """A difference found that was not there at the previous check (each new difference once)."""

    event_type = "ReconciliationMismatch"
    difference: Difference
    detected_at: dt.datetime


class ContractReconciled(_ReconciliationEvent):
    """Signed and active agree (again): no difference left."""

    event_type = "ContractReconciled"
    reconciled_at: dt.datetime
