"""Activation (phase 6): an executed contract becomes active on its start date once order sync can
take it (domain/contract/readiness.py), by the scheduler's ContractStartReached, when the catalogue
copy changes for a contract waiting on a SKU, or by hand. Each runs in one unit of work; the
catalogue copy and the waits follow in the same transaction."""

from uuid import UUID

from shared.backbone.clock import Clock, today_in
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.catalogue import CatalogueEntryPublished, CatalogueEntryRetired
from shared.events.contract_starts import ContractStartReached
from shared.events.envelope import Envelope
from services.clm.application.contract_requests import save_requests
from services.clm.domain.contract import Contract
from services.clm.domain.contract.readiness import CatalogueCopy

BY = "clm.activation"  # the `by` of what activation does on its own (the request's closing)


async def _catalogue_for(uow: UnitOfWork, contract: Contract) -> dict[str, CatalogueCopy]:
    return await uow.views.catalogue.entries(contract.activation_skus)


async def _follow(uow: UnitOfWork, contract: Contract) -> None:
    """The contract waits on the SKUs it lacks while blocked, on none once activated."""
    waiting = set()
    if contract.activated is None and contract.blocked is not None:
        waiting = {m.item for m in contract.blocked.missing if m.item in contract.activation_skus}
    await uow.views.catalogue.wait(contract.contract_uuid, waiting)
    await save_requests(uow)


async def start_contract(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractStartReached (lifecycle_scheduler): activate, or block listing what is missing."""
    event: ContractStartReached = envelope.event
    contract = await uow.get(Contract, str(event.contract_id))
    if contract is None:
        return
    contract.start_reached(await _catalogue_for(uow, contract), at=event.reached_at, by=BY)
    await _follow(uow, contract)


async def copy_catalogue_entry(uow: UnitOfWork, envelope: Envelope) -> None:
    """CatalogueEntryPublished / Retired: the copy follows; contracts waiting on the SKU are retried."""
    event = envelope.event
    copies = uow.views.catalogue
    current = (await copies.entries({event.sku})).get(event.sku)
    if isinstance(event, CatalogueEntryPublished):
        entry = CatalogueCopy(sku=event.sku, version=event.version, product=event.product,
                              entitlements=event.entitlements)
    elif isinstance(event, CatalogueEntryRetired) and current is not None:
        entry = CatalogueCopy(sku=event.sku, version=event.version, product=current.product,
                              entitlements=current.entitlements, retired=True)
    else:  # retired before we saw it published
        entry = CatalogueCopy(sku=event.sku, version=event.version, product=event.sku, retired=True)
    if not await copies.save_entry(entry):
        return
    for contract_id in await copies.waiting_on(event.sku):
        contract = await uow.get(Contract, str(contract_id))
        contract.start_reached(await _catalogue_for(uow, contract), at=event.at, by=BY)
        await _follow(uow, contract)


async def activate_by_hand(uow: UnitOfWork, contract_id: UUID, clock: Clock, *, by: str,
                           expected_version: int | None = None) -> Contract:
    """POST /contracts/{id}/activation: also retries a blocked contract."""
    async with uow:
        contract = await uow.require(Contract, str(contract_id), "contract", expected_version)
        today = today_in(clock, contract.contract_dates[2]) if contract.terms or contract.executed else None
        contract.activate(clock.now(), today=today, catalogue=await _catalogue_for(uow, contract), by=by)
        await _follow(uow, contract)
        await uow.commit()
        return contract


async def readiness(uow: UnitOfWork, contract_id: UUID) -> tuple[Contract, list]:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), "contract")
        return contract, contract.missing_for_activation(await _catalogue_for(uow, contract))
