"""An order: an activated contract's lines (ContractActivated v2) as order lines, each fulfilled
onto the service contract of the same id as the legal contract, or fallen out with the rule that
stopped it (visible, retried by API, never dropped). One stream per order (`order`), its id
follows from the contract's, so the same activation delivered again finds its order.

What decides a line's fate is pure (`fallout_of`); putting a line on the service contract is the
use case's (application/orders.py), which records the outcome here."""

import datetime as dt
import uuid
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState, NotFound
from shared.events.activation import ContractActivatedV2
from shared.events.catalogue import EntitlementTemplate
from shared.events.sales_orders import OrderCreated, OrderFulfilled, OrderLine, OrderLineFallout, OrderLineFulfilled
from services.order_sync.domain import rules
from services.order_sync.domain.catalogue import CatalogueEntry
from services.order_sync.domain.service_contract import ContractLine, Entitlement

# order_id = uuid5(ORDER_NAMESPACE, str(contract_id)): a redelivered activation finds its order.
ORDER_NAMESPACE = uuid.UUID("5d1c7b8e-3f2a-4e61-9b0c-2a8f6e4d1c37")


def order_id_of(contract_id: UUID) -> UUID:
    return uuid.uuid5(ORDER_NAMESPACE, str(contract_id))


@dataclass(frozen=True)
class Fallout:
    rule: str
    message: str


def fallout_of(line: OrderLine, entry: CatalogueEntry | None) -> Fallout | None:
    """Why the line cannot be fulfilled now, or None."""
    if entry is None or entry.published is None:
        return Fallout(rules.ORDER_SKU_NOT_IN_CATALOGUE, f"SKU {line.sku} is not in the catalogue")
    if entry.retired:
        return Fallout(rules.ORDER_SKU_RETIRED, f"SKU {line.sku} was retired from the catalogue")
    if line.quantity != line.quantity.to_integral_value():
        return Fallout(rules.ORDER_QUANTITY_NOT_WHOLE,
                       f"a service contract line holds whole units; the quantity is {line.quantity}")
    return None


def service_items(line: OrderLine, templates: list[EntitlementTemplate]) -> tuple[ContractLine, list[Entitlement]]:
    """The service contract's line (same id as the contract's line) and its entitlements from the
    catalogue, for the line's dates; a usage limit is per unit, so it scales with the quantity."""
    quantity = int(line.quantity)
    service_line = ContractLine(line_id=line.contract_line_id, product=line.product, quantity=quantity,
                                unit_price=line.unit_price, start_date=line.start_date, end_date=line.end_date)
    entitlements = [
        Entitlement(entitlement_id=uuid.uuid5(line.order_line_id, f"{i}/{t.name}"), name=t.name,
                    start_date=line.start_date, end_date=line.end_date, line_id=line.contract_line_id,
                    support_level=t.support_level, sla=t.sla, features=list(t.features),
                    usage_limit=None if t.usage_limit is None else t.usage_limit * quantity, usage_unit=t.usage_unit)
        for i, t in enumerate(templates)
    ]
    return service_line, entitlements


class Order(Aggregate):
    stream_type = "order"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.created: OrderCreated | None = None
        self.lines: dict[UUID, OrderLine] = {}
        self.fulfilled: dict[UUID, OrderLineFulfilled] = {}
        self.fallout: dict[UUID, OrderLineFallout] = {}  # the last fallout of each line not fulfilled
        self.attempts: dict[UUID, int] = {}
        self.completed: OrderFulfilled | None = None

    @classmethod
    def create(cls, activated: ContractActivatedV2, at: dt.datetime) -> "Order":
        order_id = order_id_of(activated.contract_id)
        customer = next((p.name for p in activated.parties if p.role == "customer"), activated.number)
        lines = [
            OrderLine(order_line_id=uuid.uuid5(order_id, str(line.line_id)), contract_line_id=line.line_id, sku=line.sku,
                      product=line.product, quantity=line.quantity, unit_price=line.unit_price,
                      discount_percent=line.discount_percent, net_amount=line.net_amount,
                      start_date=line.start_date, end_date=line.end_date)
            for line in activated.lines
        ]
        order = cls(str(order_id))
        order.record(OrderCreated(order_id=order_id, contract_id=activated.contract_id,
                                  account=activated.account_id or customer, currency=activated.currency,
                                  lines=lines, at=at))
        return order

    @property
    def order_id(self) -> UUID:
        return self.created.order_id

    @property
    def contract_id(self) -> UUID:
        return self.created.contract_id

    @property
    def pending(self) -> list[OrderLine]:
        return [line for line_id, line in self.lines.items() if line_id not in self.fulfilled]

    def line(self, order_line_id: UUID) -> OrderLine:
        if order_line_id not in self.lines:
            raise NotFound("order_line", order_line_id)
        return self.lines[order_line_id]

    def require_fallout(self, order_line_id: UUID) -> OrderLine:
        line = self.line(order_line_id)
        if order_line_id not in self.fallout:
            raise ConflictingState(rules.ORDER_LINE_NOT_IN_FALLOUT, f"order line {order_line_id} did not fall out",
                                   field="order_line_id")
        return line

    def fall_out(self, line: OrderLine, fallout: Fallout, at: dt.datetime) -> None:
        self.record(OrderLineFallout(order_id=self.order_id, contract_id=self.contract_id, order_line_id=line.order_line_id,
                                     rule=fallout.rule, message=fallout.message,
                                     attempt=self.attempts.get(line.order_line_id, 0) + 1, at=at))

    def fulfil(self, line: OrderLine, service_line_id: UUID, entitlement_ids: list[UUID], at: dt.datetime) -> None:
        """The line is on the service contract; the order is fulfilled with its last line."""
        self.record(OrderLineFulfilled(order_id=self.order_id, contract_id=self.contract_id,
                                       order_line_id=line.order_line_id, service_contract_id=self.contract_id,
                                       service_line_id=service_line_id, entitlement_ids=entitlement_ids, at=at))
        if not self.pending:
            self.record(OrderFulfilled(order_id=self.order_id, contract_id=self.contract_id,
                                       service_contract_id=self.contract_id, at=at))

    @applies
    def _on_created(self, event: OrderCreated) -> None:
        self.created = event
        self.lines = {line.order_line_id: line for line in event.lines}

    @applies
    def _on_line_fulfilled(self, event: OrderLineFulfilled) -> None:
        self.fulfilled[event.order_line_id] = event
        self.fallout.pop(event.order_line_id, None)

    @applies
    def _on_line_fallout(self, event: OrderLineFallout) -> None:
        self.fallout[event.order_line_id] = event
        self.attempts[event.order_line_id] = event.attempt

    @applies
    def _on_fulfilled(self, event: OrderFulfilled) -> None:
        self.completed = event
