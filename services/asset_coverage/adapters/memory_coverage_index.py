"""The in-memory twin of coverage_index.SqlCoverageIndex, for unit tests on a MemoryUnitOfWork: the
same facts with the same known_from / known_to, kept in the unit of work's tables (link facts by
(contract id, asset id), contract facts by contract id: each a tuple of rows, oldest first)."""

import datetime as dt
from types import SimpleNamespace
from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.asset_coverage.adapters.coverage_index import contract_row, link_rows, linked_of
from services.asset_coverage.adapters.inventory_index import asset_row
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.coverage import Linked
from services.asset_coverage.domain.operational_contract import OperationalContract


def _known(row: dict, known_at: dt.datetime | None) -> bool:
    if known_at is None:
        return row["known_to"] is None
    return row["known_from"] <= known_at and (row["known_to"] is None or row["known_to"] > known_at)


def _replaced(history: tuple, at: dt.datetime, row: dict | None) -> tuple:
    kept = [r for r in history if not (r["known_to"] is None and r["known_from"] == at)]
    ended = [{**r, "known_to": at} if r["known_to"] is None else r for r in kept]
    return tuple(ended + ([{**row, "known_from": at, "known_to": None}] if row else []))


class MemoryCoverageIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow
        self._now = dt.datetime.now(dt.UTC)

    async def now(self) -> dt.datetime:
        return self._now

    async def save_contract(self, contract: OperationalContract, *, contract_changed: bool, asset_ids: set[str],
                            at: dt.datetime | None = None) -> None:
        at = at or self._now
        contract_id = UUID(contract.id)
        if contract_changed and contract.start_date is not None:
            contracts = self._uow.table("coverage_contract_facts")
            contracts[contract_id] = _replaced(contracts.get(contract_id, ()), at, contract_row(contract))
        links = self._uow.table("coverage_link_facts")
        rows = {row["asset_id"]: row for row in link_rows(contract, asset_ids)}
        for asset_id in asset_ids:
            key = (contract_id, asset_id)
            links[key] = _replaced(links.get(key, ()), at, rows.get(asset_id))

    async def save_contracts(self, changes: list, at: dt.datetime | None = None) -> None:
        for contract, contract_changed, asset_ids in changes:
            await self.save_contract(contract, contract_changed=contract_changed, asset_ids=asset_ids, at=at)

    async def save_assets(self, assets: list[Asset]) -> None:
        for asset in assets:
            await self.save_asset(asset)

    async def save_asset(self, asset: Asset) -> None:
        self._uow.table("asset_index")[asset.id] = asset_row(asset)  # the inventory's rows, as MemoryInventoryIndex

    async def linked(self, asset_ids: list[str], known_at: dt.datetime | None = None) -> dict[str, list[Linked]]:
        contracts = self._uow.table("coverage_contract_facts")
        found: dict[str, list[Linked]] = {asset_id: [] for asset_id in asset_ids}
        for (contract_id, asset_id), history in self._uow.table("coverage_link_facts").items():
            if asset_id not in found:
                continue
            for link in (r for r in history if _known(r, known_at)):
                for contract in (r for r in contracts.get(contract_id, ()) if _known(r, known_at)):
                    found[asset_id].append(linked_of({**contract, **link}))
        return found

    async def proof_facts(self, asset_ids: list[str], known_at: dt.datetime | None = None,
                          ) -> tuple[set[str], dict[str, list[Linked]]]:
        return set(await self.assets_among(asset_ids)), await self.linked(asset_ids, known_at)

    async def assets_among(self, asset_ids: list[str]) -> dict:
        assets = self._uow.table("asset_index")
        return {asset_id: SimpleNamespace(**assets[asset_id]) for asset_id in asset_ids if asset_id in assets}

    async def assets(self, *, kind: str | None = None, site: str | None = None, criticality: str | None = None,
                     after: str | None = None, limit: int = 500) -> list:
        rows = sorted((SimpleNamespace(**a) for a in self._uow.table("asset_index").values()), key=lambda a: a.asset_id)
        return [a for a in rows if kind in (None, a.kind) and site in (None, a.site)
                and criticality in (None, a.criticality) and (after is None or a.asset_id > after)][:limit]
