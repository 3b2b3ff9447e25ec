"""Applies commerce's events to the service contract read model.

Order sync publishes every transition of a line or entitlement as its own event (a contract's
expiry comes with the expiry of each child), so each event is applied as it says; nothing here
derives a cascade.
"""

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.base import Event
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
from services.projection.adapters import service_contracts as read_model

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
_LINE_COLUMNS = set(read_model.contract_lines.c.keys())
_ENTITLEMENT_COLUMNS = set(read_model.entitlements.c.keys())

EVENTS: tuple[type[Event], ...] = (
    ServiceContractRecorded, ServiceContractDrafted, ServiceContractDatesChanged, *CONTRACT_TRANSITIONS,
    ContractLineAdded, ContractLineRemoved, ContractLineDatesChanged, ContractLineQuantityChanged, ContractLineEdited,
    ContractLineCoverageChanged, ContractLineDisconnected, ContractLineResumed, *LINE_TRANSITIONS,
    EntitlementAdded, EntitlementRemoved, EntitlementDatesChanged, EntitlementEdited, EntitlementResumed,
    *ENTITLEMENT_TRANSITIONS,
    SoldProductRecorded, SoldProductSuspended, SoldProductResumed,
    InstallBaseItemRecorded, InstallBaseItemMoved, InstallBaseItemSuspended, InstallBaseItemResumed,
)


async def project(conn: AsyncConnection, event: Event, at: dt.datetime) -> None:
    """Applies one of EVENTS, `at` being the event's time."""
    match event:
        # -- service contracts
        case ServiceContractRecorded():
            await read_model.record_contract(
                conn, event.contract_id, at, number=event.number, account=event.account,
                start_date=event.start_date, end_date=event.end_date, time_zone=event.time_zone,
            )
        case ServiceContractDrafted():
            await read_model.record_contract(
                conn, event.contract_id, at, number=event.number, account=event.account,
                start_date=event.start_date, end_date=event.end_date, time_zone=event.time_zone,
                with_lines=[_line(line) for line in event.lines],
                with_entitlements=[_entitlement(e) for e in event.entitlements],
            )
        case ServiceContractDatesChanged():
            await read_model.change_contract(conn, event.contract_id, at, start_date=event.start_date, end_date=event.end_date)
        case ServiceContractActivated() | ServiceContractExpired() | ServiceContractCanceled():
            reason = {"cancel_reason": event.reason} if isinstance(event, ServiceContractCanceled) else {}
            await read_model.change_contract(
                conn, event.contract_id, at, state=CONTRACT_TRANSITIONS[type(event)], state_since=event.effective_on, **reason
            )
        # -- contract lines
        case ContractLineAdded():
            await read_model.add_line(conn, event.contract_id, at, **_line(event.line))
        case ContractLineRemoved():
            await read_model.remove_line(conn, event.contract_id, event.line_id)
        case ContractLineDatesChanged():
            await _change_line(conn, event, at, start_date=event.start_date, end_date=event.end_date)
        case ContractLineQuantityChanged():
            await _change_line(conn, event, at, quantity=event.quantity)
        case ContractLineEdited():
            await _change_line(conn, event, at, product=event.product, unit_price=event.unit_price)
        case ContractLineCoverageChanged():
            await _change_line(conn, event, at, sold_product_id=event.sold_product_id, install_base_item_id=event.install_base_item_id)
        case ContractLineDisconnected():
            await _change_line(conn, event, at, end_date=event.end_date, disconnected=True)
        case ContractLineResumed():
            await _change_line(conn, event, at, state=event.state, state_since=event.effective_on)
        case ContractLineActivated() | ContractLineSuspended() | ContractLineExpired() | ContractLineCanceled():
            await _change_line(conn, event, at, state=LINE_TRANSITIONS[type(event)], state_since=event.effective_on)
        # -- entitlements
        case EntitlementAdded():
            await read_model.add_entitlement(conn, event.contract_id, at, **_entitlement(event.entitlement))
        case EntitlementRemoved():
            await read_model.remove_entitlement(conn, event.contract_id, event.entitlement_id)
        case EntitlementDatesChanged():
            await _change_entitlement(conn, event, at, start_date=event.start_date, end_date=event.end_date)
        case EntitlementEdited():
            await _change_entitlement(
                conn, event, at, name=event.name, support_level=event.support_level, sla=event.sla,
                features=event.features, usage_limit=event.usage_limit, usage_unit=event.usage_unit,
            )
        case EntitlementResumed():
            await _change_entitlement(conn, event, at, state=event.state, state_since=event.effective_on)
        case EntitlementActivated() | EntitlementSuspended() | EntitlementExpired() | EntitlementCanceled():
            await _change_entitlement(conn, event, at, state=ENTITLEMENT_TRANSITIONS[type(event)], state_since=event.effective_on)
        # -- what customers own
        case SoldProductRecorded():
            await read_model.record_sold_product(
                conn, event.sold_product_id, at, account=event.account, product=event.product, quantity=event.quantity
            )
        case SoldProductSuspended():
            await read_model.change_sold_product(
                conn, event.sold_product_id, at, state=ServiceState.SUSPENDED, state_since=event.effective_on,
                suspension_reason=event.reason,
            )
        case SoldProductResumed():
            await read_model.change_sold_product(
                conn, event.sold_product_id, at, state=ServiceState.ACTIVE, state_since=event.effective_on, suspension_reason=None
            )
        case InstallBaseItemRecorded():
            await read_model.record_install_base_item(
                conn, event.install_base_item_id, at, account=event.account, name=event.name, site=event.site,
                sold_product_id=event.sold_product_id, serial_number=event.serial_number,
            )
        case InstallBaseItemMoved():
            await read_model.change_install_base_item(conn, event.install_base_item_id, at, site=event.to_site)
        case InstallBaseItemSuspended():
            await read_model.change_install_base_item(
                conn, event.install_base_item_id, at, state=ServiceState.SUSPENDED, state_since=event.effective_on,
                suspension_reason=event.reason,
            )
        case InstallBaseItemResumed():
            await read_model.change_install_base_item(
                conn, event.install_base_item_id, at, state=ServiceState.ACTIVE, state_since=event.effective_on,
                suspension_reason=None,
            )


def _line(terms: ContractLineTerms) -> dict:
    return terms.model_dump(include=_LINE_COLUMNS)


def _entitlement(terms: EntitlementTerms) -> dict:
    return terms.model_dump(include=_ENTITLEMENT_COLUMNS)


async def _change_line(conn: AsyncConnection, event, at: dt.datetime, **values) -> None:
    await read_model.change_line(conn, event.contract_id, event.line_id, at, **values)


async def _change_entitlement(conn: AsyncConnection, event, at: dt.datetime, **values) -> None:
    await read_model.change_entitlement(conn, event.contract_id, event.entitlement_id, at, **values)
