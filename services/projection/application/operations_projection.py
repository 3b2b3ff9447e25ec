"""Operations' events (asset_coverage) into the shared contract record: vendor contracts recorded
there (origin `operations`) with their terms, states and operational side; the operational side
(owners, SLA, warranty, costs, renewal options) and the asset links, with their dates, of
contracts from contracting too. A revision of dates or terms writes a history entry
(adapters/contract_history.py). A contract's events come on its one stream, in order, so each
handler compares with the row as the previous event of that stream left it."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.coverage import (
    AssetLinked, AssetLinkRevised, AssetUnlinked, CoverageOpened, OperationalContractActivated,
    OperationalContractCanceled, OperationalContractExpired, OperationalTerms, OperationalTermsSet,
    VendorContractRegistered, VendorContractRevised, VendorContractTerms,
)
from shared.events.envelope import Envelope
from services.projection.adapters import contract_history as history
from services.projection.adapters import contract_records as records


def vendor_terms(terms: VendorContractTerms) -> dict:
    parties = [{"role": "vendor", "name": terms.vendor}] + ([{"role": "customer", "name": terms.customer}]
                                                             if terms.customer else [])
    return {
        "number": terms.number, "title": terms.name, "contract_model": terms.contract_model, "vendor": terms.vendor,
        "vendor_contract_number": terms.vendor_contract_number, "customer": terms.customer,
        "start_date": terms.start_date, "end_date": terms.end_date, "time_zone": terms.time_zone, "parties": parties,
    }


def operational_terms(terms: OperationalTerms) -> dict:
    sla, warranty, costs, renewal = terms.sla, terms.warranty, terms.costs, terms.renewal
    return {
        "owners": list(terms.owners),
        "sla_response_hours": sla and sla.response_hours, "sla_resolution_hours": sla and sla.resolution_hours,
        "service_hours": sla and sla.service_hours,
        "warranty_terms": warranty and warranty.terms, "warranty_until": warranty and warranty.until,
        "renewable": renewal.renewable if renewal else None, "renewal_options": renewal and renewal.options,
        "renewal_notice_days": renewal and renewal.notice_days,
        "payment_amount": costs and costs.payment_amount, "payment_schedule": costs and costs.payment_schedule,
        "cost_per_unit": costs and costs.cost_per_unit, "cost_center": costs and costs.cost_center,
        "po_number": costs and costs.po_number, "tax": costs and costs.tax, "cost_currency": costs and costs.currency,
    }


async def _registered(uow: UnitOfWork, envelope: Envelope) -> None:
    event: VendorContractRegistered = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="draft", contract_origin="operations",
                                 parent_id=event.predecessor_id, **vendor_terms(event.terms),
                                 **operational_terms(event.operational))


async def _revised(uow: UnitOfWork, envelope: Envelope) -> None:
    event: VendorContractRevised = envelope.event
    terms = vendor_terms(event.terms)
    await history.record_changes(uow.conn, event.contract_id, envelope, {k: v for k, v in terms.items() if k != "parties"})
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, **terms)


async def _operational_set(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OperationalTermsSet = envelope.event
    terms = operational_terms(event.operational)
    await history.record_changes(uow.conn, event.contract_id, envelope, terms)
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, **terms)


async def _opened(uow: UnitOfWork, envelope: Envelope) -> None:
    """A contract from contracting reached operations: its terms stay clm's (ContractActivated)."""
    event: CoverageOpened = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="active", contract_origin="contracting")


async def _activated(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OperationalContractActivated = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="active")


async def _expired(uow: UnitOfWork, envelope: Envelope) -> None:
    """A contract from contracting has its expiry instant from the scheduler's ContractExpired (whichever
    of the two arrives first); a vendor contract's is when operations expired it."""
    event: OperationalContractExpired = envelope.event
    if await records.origin_of(uow.conn, event.contract_id) == "contracting":
        await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="expired")
    else:
        await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="expired", expired_at=envelope.time)


async def _canceled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OperationalContractCanceled = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="canceled",
                                 canceled_on=event.effective_on, cancel_reason=event.reason)


async def _linked(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetLinked = envelope.event
    await records.link_asset(uow.conn, event.contract_id, event.asset_id, event.asset_name, envelope.time,
                             event.effective_from, event.effective_to, event.carried_from)


async def _link_revised(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetLinkRevised = envelope.event
    link = await records.link_of(uow.conn, event.contract_id, event.asset_id)
    if link is None:
        return
    await history.record(uow.conn, event.contract_id, envelope, [
        {"field": f"assets.{event.asset_id}.{name}", "before": history.plain(getattr(link, name)),
         "after": history.plain(getattr(event, name))}
        for name in ("effective_from", "effective_to") if getattr(link, name) != getattr(event, name)
    ])
    await records.revise_link(uow.conn, event.contract_id, event.asset_id, event.effective_from, event.effective_to)


async def _unlinked(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetUnlinked = envelope.event
    link = await records.link_of(uow.conn, event.contract_id, event.asset_id)
    if link is None:
        return
    before = {"effective_from": history.plain(link.effective_from), "effective_to": history.plain(link.effective_to)}
    await history.record(uow.conn, event.contract_id, envelope,
                         [{"field": f"assets.{event.asset_id}", "before": before, "after": None}])
    await records.unlink_asset(uow.conn, event.contract_id, event.asset_id)


HANDLERS: HandlerTable = {
    VendorContractRegistered: _registered,
    VendorContractRevised: _revised,
    OperationalTermsSet: _operational_set,
    CoverageOpened: _opened,
    OperationalContractActivated: _activated,
    OperationalContractExpired: _expired,
    OperationalContractCanceled: _canceled,
    AssetLinked: _linked,
    AssetLinkRevised: _link_revised,
    AssetUnlinked: _unlinked,
}
