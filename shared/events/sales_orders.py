"""Events of orders (services/order_sync): an activated contract (ContractActivated v2) becomes
an order, decomposed into order lines; fulfilment drafts the service contract (same id as the
legal contract) through its life cycle. A line that cannot be fulfilled falls out, visibly and
retryably. One stream per order (order_id = uuid5 of the contract id)."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event


class OrderLine(BaseModel):
    order_line_id: UUID
    contract_line_id: UUID = Field(description="the legal contract's line (ActivatedLine.line_id)")
    sku: str
    product: str
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal = Field(ge=0)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    net_amount: Decimal
    start_date: dt.date
    end_date: dt.date


class _OrderEvent(Event):
    topic = topics.ORDER_SYNC_ORDERS
    source = "/services/order_sync"
    key_field = "order_id"
    order_id: UUID
    contract_id: UUID


class OrderCreated(_OrderEvent):
    """An order was created from an activated contract, one order line per contract line."""

    event_type = "OrderCreated"
    account: str
    currency: str | None = None
    lines: list[OrderLine]
    at: dt.datetime


class OrderLineFulfilled(_OrderEvent):
    """The line is on the service contract (`service_contract_id`) with its entitlements."""

    event_type = "OrderLineFulfilled"
    order_line_id: UUID
    service_contract_id: UUID
    service_line_id: UUID
    entitlement_ids: list[UUID] = Field(default_factory=list)
    at: dt.datetime


class OrderLineFallout(_OrderEvent):
    """The line could not be fulfilled: the rule and why. Retried by API (or when the cause, e.g.
    the catalogue entry, is fixed); each attempt that fails again is another fallout."""

    event_type = "OrderLineFallout"
    order_line_id: UUID
    rule: str
    message: str
    attempt: int = Field(ge=1)
    at: dt.datetime


class OrderFulfilled(_OrderEvent):
    """Every line is fulfilled: the service contract matches the contract's lines."""

    event_type = "OrderFulfilled"
    service_contract_id: UUID
    at: dt.datetime
