"""The registry of what operations manages: the one place assets and vendor contracts are created
or revised (by the API and by the import jobs), the operational terms of any contract set, a
contract canceled, and the facts from other services applied (a contract activated, renewed or expired in
contracting, a successor linked to its predecessor there, a vendor contract's start or end date reached by the scheduler).

Each command comes twice: `<command>` opens and commits its own unit of work; `<command>_in` works
inside one already open (an import commits a batch of rows in one transaction) and leaves the
commit to its caller. The query tables (the inventory's lists, the coverage index) and the lapses
they imply follow at the commit (`following.commit`), or, for a caller of `_in` commands, through
`following.save_coverage` once before its own commit: a batch's rows saved as a set.
"""

import datetime as dt
import re
from typing import Literal
from uuid import UUID

from pydantic import ValidationError

from shared.backbone.errors import invalid
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.assets import ASSET_ID_PATTERN, AssetDetails
from shared.events.contract_links import ContractLinked
from shared.events.contracts import ContractActivated
from shared.events.coverage import OperationalTerms, VendorContractTerms
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired
from shared.events.operational_dates import OperationalContractEndReached, OperationalContractStartReached
from shared.events.renewal_terms import ContractRenewed
from services.asset_coverage.application import following
from services.asset_coverage.application.linking import carry_links
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.terms import changed_fields, vendor_contract_id

Outcome = Literal["created", "updated", "unchanged"]


def _outcome(changed: bool) -> Outcome:
    return "updated" if changed else "unchanged"


# -- assets --------------------------------------------------------------------------------------

async def register_asset_in(uow: UnitOfWork, asset_id: str, details: AssetDetails) -> tuple[Asset, Outcome]:
    """Registers the asset, or revises it to `details` (unchanged details record nothing)."""
    if not re.fullmatch(ASSET_ID_PATTERN, asset_id):
        raise invalid(rules.ASSET_ID_INVALID, "an asset id is letters, digits and . _ : / # - (at most 128), "
                                              "starting with a letter or digit", "asset_id")
    asset = await uow.get(Asset, asset_id)
    if asset is None:
        asset = Asset.register(asset_id, details)
        uow.add(asset)
        outcome: Outcome = "created"
    else:
        outcome = _outcome(asset.revise(details))
    return asset, outcome


@created_once
async def register_asset(uow: UnitOfWork, asset_id: str, details: AssetDetails) -> tuple[Asset, Outcome]:
    async with uow:
        asset, outcome = await register_asset_in(uow, asset_id, details)
        await following.commit(uow)
        return asset, outcome


async def get_asset(uow: UnitOfWork, asset_id: str) -> Asset:
    async with uow:
        return await uow.require(Asset, asset_id, "asset")


async def list_assets(uow: UnitOfWork, *, kind=None, site=None, criticality=None, owner=None, after=None,
                      limit: int = 100) -> list:
    async with uow:
        return await uow.views.inventory.assets(kind=kind, site=site, criticality=criticality, owner=owner,
                                                after=after, limit=limit)


# -- vendor contracts ----------------------------------------------------------------------------

async def register_vendor_contract_in(
    uow: UnitOfWork, terms: VendorContractTerms, operational: OperationalTerms, predecessor_id: UUID | None = None,
) -> tuple[OperationalContract, Outcome]:
    """Registers the vendor contract of the natural key (vendor + vendor contract number), in Draft;
    an existing one is revised to these terms (the rules of its state apply) and operational terms."""
    contract_id = str(vendor_contract_id(terms.vendor, terms.vendor_contract_number))
    contract = await uow.get(OperationalContract, contract_id)
    if contract is not None:
        revised = contract.revise_terms(terms)
        operational_set = contract.set_operational_terms(operational)
        return contract, _outcome(revised or operational_set)
    if predecessor_id is not None and await uow.get(OperationalContract, str(predecessor_id)) is None:
        raise invalid(rules.PREDECESSOR_UNKNOWN, f"contract {predecessor_id} (the one renewed) does not exist",
                      "predecessor_id")
    contract = OperationalContract.register_vendor_contract(terms, operational, predecessor_id)
    uow.add(contract)
    await carry_links(uow, contract)  # a renewal covers what its predecessor covered
    return contract, "created"


@created_once
async def register_vendor_contract(
    uow: UnitOfWork, terms: VendorContractTerms, operational: OperationalTerms, predecessor_id: UUID | None = None,
) -> tuple[OperationalContract, Outcome]:
    async with uow:
        contract, outcome = await register_vendor_contract_in(uow, terms, operational, predecessor_id)
        await following.commit(uow)
        return contract, outcome


async def revise_terms(uow: UnitOfWork, contract_id: UUID, terms: VendorContractTerms,
                       expected_version: int | None = None) -> tuple[OperationalContract, Outcome]:
    async with uow:
        contract = await uow.require(OperationalContract, str(contract_id), "operational_contract", expected_version)
        outcome = _outcome(contract.revise_terms(terms))
        await following.commit(uow)
        return contract, outcome


async def change_terms(uow: UnitOfWork, contract_id: UUID, changes: dict,
                       expected_version: int | None = None) -> tuple[OperationalContract, Outcome]:
    """Revises the terms named in `changes` (a PATCH), the others staying as they are."""
    async with uow:
        contract = await uow.require(OperationalContract, str(contract_id), "operational_contract", expected_version)
        contract.require_own_terms()
        outcome = _outcome(contract.revise_terms(_merged(contract.vendor_terms, changes)))
        await following.commit(uow)
        return contract, outcome


def _merged(current: VendorContractTerms, changes: dict) -> VendorContractTerms:
    merged = {**current.model_dump(), **changes}
    for name in ("number", "name", "contract_model", "start_date", "end_date", "time_zone"):
        if merged[name] is None:
            raise invalid(rules.TERMS_REQUIRED, f"{name} cannot be removed", name)
    if merged["end_date"] < merged["start_date"]:
        raise invalid(rules.DATES_END_BEFORE_START, "end_date must not be before start_date", "end_date")
    try:
        return VendorContractTerms.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise invalid(rules.TERMS_INVALID, error["msg"], ".".join(map(str, error["loc"])) or None) from exc


async def set_operational_terms_in(uow: UnitOfWork, contract_id: UUID, operational: OperationalTerms,
                                   expected_version: int | None = None, *,
                                   costs_only: bool = False) -> tuple[OperationalContract, Outcome]:
    """`costs_only` (finance): refused with ownership.finance_sets_costs_only if anything else differs."""
    contract = await uow.require(OperationalContract, str(contract_id), "operational_contract", expected_version)
    if costs_only:
        others = [n for n in changed_fields(operational, contract.operational) if n != "costs"]
        if others:
            raise invalid(rules.FINANCE_SETS_COSTS_ONLY, f"finance sets the costs only, not {', '.join(others)}",
                          others[0])
    outcome = _outcome(contract.set_operational_terms(operational))
    return contract, outcome


async def set_operational_terms(uow: UnitOfWork, contract_id: UUID, operational: OperationalTerms,
                                expected_version: int | None = None, *,
                                costs_only: bool = False) -> tuple[OperationalContract, Outcome]:
    """Of any contract, from contracting or not."""
    async with uow:
        contract, outcome = await set_operational_terms_in(uow, contract_id, operational, expected_version,
                                                           costs_only=costs_only)
        await following.commit(uow)
        return contract, outcome


async def cancel_contract(uow: UnitOfWork, contract_id: UUID, effective_on: dt.date, reason: str | None = None,
                          expected_version: int | None = None) -> tuple[OperationalContract, Outcome]:
    async with uow:
        contract = await uow.require(OperationalContract, str(contract_id), "operational_contract", expected_version)
        outcome = _outcome(contract.cancel(effective_on, reason))
        await following.commit(uow)
        return contract, outcome


async def get_contract(uow: UnitOfWork, contract_id: UUID) -> OperationalContract:
    async with uow:
        return await uow.require(OperationalContract, str(contract_id), "operational_contract")


async def list_contracts(uow: UnitOfWork, *, state=None, origin=None, vendor=None, contract_model=None,
                         ends_before=None, after=None, limit: int = 100) -> list:
    async with uow:
        return await uow.views.inventory.contracts(state=state, origin=origin, vendor=vendor,
                                                   contract_model=contract_model, ends_before=ends_before,
                                                   after=after, limit=limit)


# -- consumed events (in the consumer's unit of work: the inbox row commits with them) ----------

def contract_stream(envelope: Envelope) -> list[str]:
    """The operational contract a legal contract's event concerns (the same id)."""
    return [str(envelope.event.contract_id)]


async def open_from_contracting(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractActivated: the contract's operational side opens (once), Active; a renewal
    successor's carries over its predecessor's links (linking.carry_links)."""
    event: ContractActivated = envelope.event
    if await uow.get(OperationalContract, str(event.contract_id)) is None:
        predecessor_id = await uow.views.successors.predecessor_of(event.contract_id)
        contract = OperationalContract.open_from_contracting(event, predecessor_id)
        uow.add(contract)
        await carry_links(uow, contract)
        await following.save_coverage(uow, max(event.start_date, envelope.time.date()))


async def note_successor(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractLinked: a successor's predecessor, kept until the successor is activated (its
    ContractActivated follows on the same stream, so this comes first). Amendments change no coverage."""
    event: ContractLinked = envelope.event
    if event.relation == "successor":
        await uow.views.successors.save_successor(event.contract_id, event.parent_id)


async def follow_renewal(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractRenewed (a tacit renewal): the operational end moves to the new period's end."""
    event: ContractRenewed = envelope.event
    contract = await uow.get(OperationalContract, str(event.contract_id))
    if contract is not None and contract.follow_renewal(event.period.end_date):
        await following.save_coverage(uow, max(event.previous_end_date, envelope.time.date()))


async def expire_from_contracting(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractExpired (the scheduler's timer of a legal contract): its operational side expires.
    Not a contract operations knows (never activated here): nothing to do."""
    event: ContractExpired = envelope.event
    contract = await uow.get(OperationalContract, str(event.contract_id))
    if contract is not None and contract.origin == "contracting":
        contract.expire()
        await following.save_coverage(uow, event.end_date + dt.timedelta(days=1))


async def start_reached(uow: UnitOfWork, envelope: Envelope) -> None:
    """The scheduler reached a vendor contract's start date: a Draft becomes Active."""
    event: OperationalContractStartReached = envelope.event
    contract = await uow.get(OperationalContract, str(event.contract_id))
    if contract is not None:
        contract.activate(event.start_date)
        await following.save_coverage(uow, event.start_date)


async def end_reached(uow: UnitOfWork, envelope: Envelope) -> None:
    """The day after a vendor contract's end date began: it expires (if that is still its end date)."""
    event: OperationalContractEndReached = envelope.event
    contract = await uow.get(OperationalContract, str(event.contract_id))
    if contract is not None:
        contract.expire(event.end_date)
        await following.save_coverage(uow, event.end_date + dt.timedelta(days=1))
