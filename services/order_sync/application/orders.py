"""Orders from activated contracts (ContractActivated v2): the order, its lines fulfilled onto the
service contract of the same id as the legal contract (drafted with the order, through the existing
life cycle), each line that cannot be fulfilled recorded as fallout and retried by API.

Fulfilment runs in the unit of work that creates the order: the service contract is drafted with
the contract's header at once, each line that fulfils goes on it (with its entitlements from the
catalogue), a line that falls out does not block the others and is added by `retry_line` once
its cause is fixed (MACD "add"): by hand, or when the catalogue publishes its SKU.

`taking_activations` is what the consumer runs: a consumed batch reads the service contracts,
orders and catalogue entries of all its activations in one query before handling them."""

import datetime as dt
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.backbone.clock import Clock
from shared.backbone.errors import DomainError, NotFound
from shared.backbone.event_routing import Prefetching
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.activation import ContractActivatedV2
from shared.events.catalogue import CatalogueEntryPublished
from shared.events.envelope import Envelope
from shared.events.sales_orders import OrderLine
from services.order_sync.application.indexing import commit, indexes, save_indexes
from services.order_sync.domain import rules
from services.order_sync.domain.catalogue import CatalogueEntry
from services.order_sync.domain.order import Fallout, Order, fallout_of, order_id_of, service_items
from services.order_sync.domain.service_contract import ServiceContract


async def take_activation(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractActivated v2. Without lines: the service contract recorded with the contract's dates,
    as v1 was handled. With lines: the order (once: its id follows from the contract's) and its fulfilment."""
    event: ContractActivatedV2 = envelope.event
    service = await uow.get(ServiceContract, str(event.contract_id))
    if not event.lines:
        if service is None:
            uow.add(ServiceContract.record_from(event))
            await save_indexes(uow)
        return
    if await uow.get(Order, str(order_id_of(event.contract_id))) is not None:
        return
    at = event.activated_at or envelope.time
    order = Order.create(event, at)
    uow.add(order)
    if service is None:
        service = ServiceContract.draft(event.contract_id, number=event.number, account=order.created.account,
                                        start_date=event.start_date, end_date=event.end_date, time_zone=event.time_zone)
        uow.add(service)
    await _fulfil(uow, order, service, order.pending, at)
    await save_indexes(uow)


def _streams_of_activation(envelope: Envelope) -> list[str]:
    event: ContractActivatedV2 = envelope.event
    return [str(event.contract_id), str(order_id_of(event.contract_id)), *sorted({line.sku for line in event.lines})]


taking_activations = Prefetching(take_activation, _streams_of_activation)


async def retry_fallout_of(uow: UnitOfWork, envelope: Envelope) -> None:
    """CatalogueEntryPublished (order sync's own): the lines in fallout with that SKU are tried again."""
    event: CatalogueEntryPublished = envelope.event
    for order_id in await indexes(uow).orders_with_fallout_on(event.sku):
        order = await uow.get(Order, str(order_id))
        service = await uow.get(ServiceContract, str(order.contract_id))
        lines = [order.lines[line_id] for line_id in order.fallout if order.lines[line_id].sku == event.sku]
        await _fulfil(uow, order, service, lines, event.at)
    await save_indexes(uow)


async def retry_line(uow: UnitOfWork, order_id: UUID, order_line_id: UUID, clock: Clock) -> Order:
    """POST /orders/{id}/lines/{line}/retry: the fallen-out line again; fulfilled, or another fallout."""
    async with uow:
        order = await uow.require(Order, str(order_id), "order")
        line = order.require_fallout(order_line_id)
        service = await uow.require(ServiceContract, str(order.contract_id), "service_contract")
        await _fulfil(uow, order, service, [line], clock.now())
        await commit(uow)
        return order


async def get_order(uow: UnitOfWork, order_id: UUID) -> Order:
    async with uow:
        order = await uow.get(Order, str(order_id))
        if order is None:
            raise NotFound("order", order_id)
        return order


async def _fulfil(uow: UnitOfWork, order: Order, service: ServiceContract, lines: list[OrderLine],
                  at: dt.datetime) -> None:
    today = at.astimezone(ZoneInfo(service.time_zone)).date()
    for line in lines:
        entry = await uow.get(CatalogueEntry, line.sku)
        if (fallout := fallout_of(line, entry)) is not None:
            order.fall_out(line, fallout, at)
            continue
        service_line, entitlements = service_items(line, entry.published.entitlements)
        try:
            service.add_line(service_line, today)
            for ent in entitlements:
                service.add_entitlement(ent, today)
        except DomainError as refused:
            order.fall_out(line, Fallout(rules.ORDER_SERVICE_CONTRACT_REFUSED, f"{refused.rule}: {refused.message}"), at)
            continue
        order.fulfil(line, service_line.line_id, [e.entitlement_id for e in entitlements], at)


async def list_orders(uow: UnitOfWork, *, fallout: bool | None, after: UUID | None, limit: int) -> list:
    async with uow:
        return await uow.views.orders(fallout=fallout, after=after, limit=limit)
