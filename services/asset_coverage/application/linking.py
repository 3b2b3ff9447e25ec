"""Use cases of links: link one asset with its own dates, many by a list or by a filter (one append),
revise a link's dates, unlink one recorded in error, and carry a predecessor's links to its renewal
successor. Only registered assets are linked (`asset.unknown`, listing the ids that are not)."""

import datetime as dt
from uuid import UUID

from shared.backbone.errors import ConflictingState, invalid
from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.application.following import commit, coverage_index
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.links import LinkRequest

# The most assets one bulk link (a list or a filter) links in one append.
MAX_BULK_LINKS = 5_000


async def _contract(uow: UnitOfWork, contract_id: UUID, expected_version: int | None = None) -> OperationalContract:
    contract = await uow.get(OperationalContract, str(contract_id))
    if contract is None:
        raise ConflictingState(
            "coverage.contract_not_active",
            f"contract {contract_id} is not known here (or its activation has not reached this service yet)",
            field="contract_id",
        )
    if expected_version is not None:
        await uow.require(OperationalContract, str(contract_id), "contract", expected_version)
    return contract


async def _registered(uow: UnitOfWork, asset_ids: list[str]) -> dict:
    found = await coverage_index(uow).assets_among(asset_ids)
    unknown = [a for a in asset_ids if a not in found]
    if unknown:
        raise invalid(rules.ASSET_UNKNOWN, f"{len(unknown)} asset(s) are not registered: {', '.join(unknown[:20])}",
                      field="asset_ids", unknown=unknown)
    return found


async def link_asset(uow: UnitOfWork, today: dt.date, contract_id: UUID, asset_id: str,
                     effective_from: dt.date | None = None, effective_to: dt.date | None = None,
                     ) -> tuple[OperationalContract, bool]:
    """Links one registered asset; (the contract, whether the link changed)."""
    contract, changed = await link_assets(uow, today, contract_id, [asset_id], effective_from, effective_to)
    return contract, bool(changed)


async def link_assets(uow: UnitOfWork, today: dt.date, contract_id: UUID, asset_ids: list[str],
                      effective_from: dt.date | None = None, effective_to: dt.date | None = None,
                      ) -> tuple[OperationalContract, list[str]]:
    """Links every asset of the list with the same dates, all or none; the ids whose link changed."""
    asset_ids = list(dict.fromkeys(asset_ids))
    if len(asset_ids) > MAX_BULK_LINKS:
        raise invalid("links.too_many", f"at most {MAX_BULK_LINKS} assets in one request", field="asset_ids")
    async with uow:
        contract = await _contract(uow, contract_id)
        names = {a: row.name for a, row in (await _registered(uow, asset_ids)).items()}
        changed = contract.link_assets([LinkRequest(a, names[a], effective_from, effective_to) for a in asset_ids])
        await commit(uow, today)
        return contract, changed


async def link_matching(uow: UnitOfWork, today: dt.date, contract_id: UUID, *, kind: str | None, site: str | None,
                        criticality: str | None, effective_from: dt.date | None = None,
                        effective_to: dt.date | None = None) -> tuple[OperationalContract, list[str], int]:
    """Links every registered asset matching the filter (all robots at Plant 4), up to MAX_BULK_LINKS;
    the ids whose link changed, and how many matched."""
    if kind is None and site is None and criticality is None:
        raise invalid("links.filter_empty", "give at least one of kind, site, criticality", field="filter")
    async with uow:
        contract = await _contract(uow, contract_id)
        matching = await coverage_index(uow).assets(kind=kind, site=site, criticality=criticality,
                                                    limit=MAX_BULK_LINKS + 1)
        if len(matching) > MAX_BULK_LINKS:
            raise invalid("links.too_many", f"more than {MAX_BULK_LINKS} assets match: narrow the filter",
                            field="filter")
        changed = contract.link_assets([LinkRequest(a.asset_id, a.name, effective_from, effective_to) for a in matching])
        await commit(uow, today)
        return contract, changed, len(matching)


async def revise_link(uow: UnitOfWork, today: dt.date, contract_id: UUID, asset_id: str,
                      effective_from: dt.date | None, effective_to: dt.date | None,
                      expected_version: int | None = None) -> OperationalContract:
    async with uow:
        contract = await _contract(uow, contract_id, expected_version)
        contract.revise_link(asset_id, effective_from, effective_to)
        await commit(uow, today)
        return contract


async def unlink(uow: UnitOfWork, today: dt.date, contract_id: UUID, asset_id: str, reason: str | None = None,
                 expected_version: int | None = None) -> OperationalContract:
    async with uow:
        contract = await _contract(uow, contract_id, expected_version)
        contract.unlink(asset_id, reason)
        await commit(uow, today)
        return contract


async def carry_links(uow: UnitOfWork, successor: OperationalContract) -> list[str]:
    """Inside the unit of work that registers `successor` (a vendor contract with a predecessor_id):
    it takes the predecessor's links, dated from its own start. The caller commits (through
    following.commit, so the index and lapses follow). The ids carried; none without a predecessor."""
    if successor.predecessor_id is None:
        return []
    predecessor = await uow.get(OperationalContract, str(successor.predecessor_id))
    if predecessor is None:
        return []
    return successor.carry_links_from(predecessor)


async def get_contract(uow: UnitOfWork, contract_id: UUID) -> OperationalContract:
    async with uow:
        return await uow.require(OperationalContract, str(contract_id), "coverage")
