"""Registering assets and vendor contracts by their natural keys (asset id; vendor + vendor contract
number): created when new, updated when changed, unchanged (no event) when the same.

SMALL STAND-IN written by the imports part so imports run in its branch: the inventory part writes
the real module with the same signatures; at merge keep the inventory version."""

from typing import Literal
from uuid import UUID

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.assets import AssetDetails
from shared.events.coverage import OperationalTermsSet, OperationalTerms, VendorContractRevised, VendorContractTerms
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.terms import vendor_contract_id

Outcome = Literal["created", "updated", "unchanged"]


async def register_asset_in(uow: UnitOfWork, asset_id: str, details: AssetDetails) -> tuple[Asset, Outcome]:
    asset = await uow.get(Asset, asset_id)
    if asset is None:
        asset = Asset.register(asset_id, details)
        uow.add(asset)
        return asset, "created"
    return asset, "updated" if asset.revise(details) else "unchanged"


async def register_asset(uow: UnitOfWork, asset_id: str, details: AssetDetails) -> tuple[Asset, Outcome]:
    async with uow:
        registered = await register_asset_in(uow, asset_id, details)
        await uow.commit()
        return registered


async def register_vendor_contract_in(uow: UnitOfWork, terms: VendorContractTerms, operational: OperationalTerms,
                                      predecessor_id: UUID | None = None) -> tuple[OperationalContract, Outcome]:
    contract_id = vendor_contract_id(terms.vendor, terms.vendor_contract_number)
    contract = await uow.get(OperationalContract, str(contract_id))
    if contract is None:
        contract = OperationalContract.register_vendor_contract(terms, operational, predecessor_id)
        uow.add(contract)
        return contract, "created"
    changed_terms = [n for n in VendorContractTerms.model_fields if getattr(terms, n) != getattr(contract.vendor_terms, n)]
    changed_ops = [n for n in OperationalTerms.model_fields if getattr(operational, n) != getattr(contract.operational, n)]
    if changed_terms or changed_ops:
        contract.require_open()
    if changed_terms:
        contract.record(VendorContractRevised(contract_id=contract_id, terms=terms, changed=changed_terms))
    if changed_ops:
        contract.record(OperationalTermsSet(contract_id=contract_id, operational=operational, changed=changed_ops))
    return contract, "updated" if changed_terms or changed_ops else "unchanged"


async def register_vendor_contract(uow: UnitOfWork, terms: VendorContractTerms, operational: OperationalTerms,
                                   predecessor_id: UUID | None = None) -> tuple[OperationalContract, Outcome]:
    async with uow:
        registered = await register_vendor_contract_in(uow, terms, operational, predecessor_id)
        await uow.commit()
        return registered
