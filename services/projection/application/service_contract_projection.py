"""Applies commerce's events to the service contract read model.

Order sync publishes every transition of a line or entitlement as its own event (a contract's
expiry comes with the expiry of each child), so each event is applied as it says; nothing here
derives a cascade.

Transitions come in waves (every contract of a book expiring on the same day: the contract, then
each line and entitlement, six events a contract), so they share one `Batched` handler: a run of
them, in any mix, is applied with one UPDATE per table, each row set to its last transition in the
run, which is what applying them one by one leaves (each transition sets the same columns; a
cancel reason, once set, stays). Any other event of these tables ends the run (event_routing.py).
"""

import datetime as dt
from typing import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.event_routing import Batched, Handler, HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.base import Event
from shared.events.envelope import Envelope
from shared.events.install_base import (
    InstallBaseItemMoved,
    InstallBaseItemRecorded,
    InstallBaseItemResumed,
    InstallBaseItemSuspended,
    SoldProductRecorded,
    SoldProductResumed,
    SoldProductSuspended,
)
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineCanceled,
    ContractLineCoverageChanged,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineEdited,
    ContractLineExpired,
    ContractLineQuantityChanged,
    ContractLineRemoved,
    ContractLineResumed,
    ContractLineSuspended,
    ContractLineTerms,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementDatesChanged,
    EntitlementEdited,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    EntitlementSuspended,
    EntitlementTerms,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)
from services.projection.adapters import service_contract_records as records

CONTRACT_TRANSITIONS = {
    ServiceContractActivated: ServiceState.ACTIVE,
    ServiceContractExpired: ServiceState.EXPIRED,
    ServiceContractCanceled: ServiceState.CANCELED,
}
LINE_TRANSITIONS = {
    ContractLineActivated: ServiceState.ACTIVE,
    ContractLineSuspended: ServiceState.SUSPENDED,
    ContractLineExpired: ServiceState.EXPIRED,
    ContractLineCanceled: ServiceState.CANCELED,
}
ENTITLEMENT_TRANSITIONS = {
    EntitlementActivated: ServiceState.ACTIVE,
    EntitlementSuspended: ServiceState.SUSPENDED,
    EntitlementExpired: ServiceState.EXPIRED,
    EntitlementCanceled: ServiceState.CANCELED,
}

# Fields added to the terms later (compatible within v1) are not columns yet.
_LINE_COLUMNS = set(records.contract_lines.c.keys())
_ENTITLEMENT_COLUMNS = set(records.entitlements.c.keys())


async def _service_contracts_recorded(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    """ServiceContractRecorded (one per activation of a contract without lines): one INSERT a run."""
    await records.record_contracts(uow.conn, [
        (e.event.contract_id, e.event.number, e.event.account, e.event.start_date, e.event.end_date, e.event.time_zone, e.time)
        for e in envelopes])


async def _service_contract_drafted(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.record_contract(
        conn, event.contract_id, at, number=event.number, account=event.account,
        start_date=event.start_date, end_date=event.end_date, time_zone=event.time_zone,
        with_lines=[_line(line) for line in event.lines],
        with_entitlements=[_entitlement(e) for e in event.entitlements],
    )


async def _service_contract_dates_changed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.change_contract(conn, event.contract_id, at, start_date=event.start_date, end_date=event.end_date)


async def _contract_line_added(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.add_line(conn, event.contract_id, at, **_line(event.line))


async def _contract_line_removed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.remove_line(conn, event.contract_id, event.line_id)


async def _contract_line_dates_changed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_line(conn, event, at, start_date=event.start_date, end_date=event.end_date)


async def _contract_line_quantity_changed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_line(conn, event, at, quantity=event.quantity)


async def _contract_line_edited(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_line(conn, event, at, product=event.product, unit_price=event.unit_price)


async def _contract_line_coverage_changed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_line(conn, event, at, sold_product_id=event.sold_product_id, install_base_item_id=event.install_base_item_id)


async def _contract_line_disconnected(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_line(conn, event, at, end_date=event.end_date, disconnected=True)


async def _entitlement_added(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.add_entitlement(conn, event.contract_id, at, **_entitlement(event.entitlement))


async def _entitlement_removed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.remove_entitlement(conn, event.contract_id, event.entitlement_id)


async def _entitlement_dates_changed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_entitlement(conn, event, at, start_date=event.start_date, end_date=event.end_date)


async def _entitlement_edited(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await _change_entitlement(
        conn, event, at, name=event.name, support_level=event.support_level, sla=event.sla,
        features=event.features, usage_limit=event.usage_limit, usage_unit=event.usage_unit,
    )


async def _sold_product_recorded(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.record_sold_product(
        conn, event.sold_product_id, at, account=event.account, product=event.product, quantity=event.quantity
    )


async def _sold_product_suspended(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.change_sold_product(
        conn, event.sold_product_id, at, state=ServiceState.SUSPENDED, state_since=event.effective_on,
        suspension_reason=event.reason,
    )


async def _sold_product_resumed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.change_sold_product(
        conn, event.sold_product_id, at, state=ServiceState.ACTIVE, state_since=event.effective_on, suspension_reason=None
    )


async def _install_base_item_recorded(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.record_install_base_item(
        conn, event.install_base_item_id, at, account=event.account, name=event.name, site=event.site,
        sold_product_id=event.sold_product_id, serial_number=event.serial_number,
    )


async def _install_base_item_moved(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.change_install_base_item(conn, event.install_base_item_id, at, site=event.to_site)


async def _install_base_item_suspended(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.change_install_base_item(
        conn, event.install_base_item_id, at, state=ServiceState.SUSPENDED, state_since=event.effective_on,
        suspension_reason=event.reason,
    )


async def _install_base_item_resumed(conn: AsyncConnection, event, at: dt.datetime) -> None:
    await records.change_install_base_item(
        conn, event.install_base_item_id, at, state=ServiceState.ACTIVE, state_since=event.effective_on,
        suspension_reason=None,
    )


# The state each transition sets (None: the state the event names, a resumption's).
_LINE_STATES = {**LINE_TRANSITIONS, ContractLineResumed: None}
_ENTITLEMENT_STATES = {**ENTITLEMENT_TRANSITIONS, EntitlementResumed: None}


async def _transitions(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    """A run of contract, line and entitlement transitions: one UPDATE per table, each row's last."""
    contracts: dict = {}
    lines: dict = {}
    granted: dict = {}
    for envelope in envelopes:
        event, at, kind = envelope.event, envelope.time, type(envelope.event)
        if kind in CONTRACT_TRANSITIONS:
            earlier = contracts.get(event.contract_id)
            reason = (True, event.reason) if kind is ServiceContractCanceled else earlier[4:] if earlier else (False, None)
            contracts[event.contract_id] = (event.contract_id, CONTRACT_TRANSITIONS[kind].value, event.effective_on, at, *reason)
        elif kind in _LINE_STATES:
            key = (event.contract_id, event.line_id)
            lines[key] = (*key, (_LINE_STATES[kind] or event.state).value, event.effective_on, at)
        else:
            key = (event.contract_id, event.entitlement_id)
            granted[key] = (*key, (_ENTITLEMENT_STATES[kind] or event.state).value, event.effective_on, at)
    await records.set_contract_states(uow.conn, list(contracts.values()))
    await records.set_line_states(uow.conn, list(lines.values()))
    await records.set_entitlement_states(uow.conn, list(granted.values()))


TRANSITIONS = Batched(_transitions)


def _applied(apply: Callable[[AsyncConnection, Event, dt.datetime], Awaitable[None]]) -> Handler:
    """A handler that applies the event, at its time, on the consumer's connection."""

    async def handler(uow: UnitOfWork, envelope: Envelope) -> None:
        await apply(uow.conn, envelope.event, envelope.time)

    return handler


HANDLERS: HandlerTable = {
    ServiceContractRecorded: Batched(_service_contracts_recorded),
    ServiceContractDrafted: _applied(_service_contract_drafted),
    ServiceContractDatesChanged: _applied(_service_contract_dates_changed),
    ServiceContractActivated: TRANSITIONS,
    ServiceContractExpired: TRANSITIONS,
    ServiceContractCanceled: TRANSITIONS,
    ContractLineAdded: _applied(_contract_line_added),
    ContractLineRemoved: _applied(_contract_line_removed),
    ContractLineDatesChanged: _applied(_contract_line_dates_changed),
    ContractLineQuantityChanged: _applied(_contract_line_quantity_changed),
    ContractLineEdited: _applied(_contract_line_edited),
    ContractLineCoverageChanged: _applied(_contract_line_coverage_changed),
    ContractLineDisconnected: _applied(_contract_line_disconnected),
    ContractLineResumed: TRANSITIONS,
    ContractLineActivated: TRANSITIONS,
    ContractLineSuspended: TRANSITIONS,
    ContractLineExpired: TRANSITIONS,
    ContractLineCanceled: TRANSITIONS,
    EntitlementAdded: _applied(_entitlement_added),
    EntitlementRemoved: _applied(_entitlement_removed),
    EntitlementDatesChanged: _applied(_entitlement_dates_changed),
    EntitlementEdited: _applied(_entitlement_edited),
    EntitlementResumed: TRANSITIONS,
    EntitlementActivated: TRANSITIONS,
    EntitlementSuspended: TRANSITIONS,
    EntitlementExpired: TRANSITIONS,
    EntitlementCanceled: TRANSITIONS,
    SoldProductRecorded: _applied(_sold_product_recorded),
    SoldProductSuspended: _applied(_sold_product_suspended),
    SoldProductResumed: _applied(_sold_product_resumed),
    InstallBaseItemRecorded: _applied(_install_base_item_recorded),
    InstallBaseItemMoved: _applied(_install_base_item_moved),
    InstallBaseItemSuspended: _applied(_install_base_item_suspended),
    InstallBaseItemResumed: _applied(_install_base_item_resumed),
}


def _line(terms: ContractLineTerms) -> dict:
    return terms.model_dump(include=_LINE_COLUMNS)


def _entitlement(terms: EntitlementTerms) -> dict:
    return terms.model_dump(include=_ENTITLEMENT_COLUMNS)


async def _change_line(conn: AsyncConnection, event, at: dt.datetime, **values) -> None:
    await records.change_line(conn, event.contract_id, event.line_id, at, **values)


async def _change_entitlement(conn: AsyncConnection, event, at: dt.datetime, **values) -> None:
    await records.change_entitlement(conn, event.contract_id, event.entitlement_id, at, **values)
