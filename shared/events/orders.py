"""Events of commerce (services/order_sync): service contracts and entitlements."""

import datetime as dt
from uuid import UUID

from shared.events import topics
from shared.events.base import Event


class _ServiceContractEvent(Event):
    topic = topics.ORDER_SYNC_SERVICE_CONTRACTS
    source = "/services/order_sync"
    key_field = "contract_id"
    contract_id: UUID


class ServiceContractRecorded(_ServiceContractEvent):
    """Commerce holds a service contract for an activated legal contract."""

    event_type = "ServiceContractRecorded"
    number: str
    account: str
    start_date: dt.date
    end_date: dt.date
