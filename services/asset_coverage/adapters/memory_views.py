"""The in-memory twins of operations' query tables (views.SqlViews), for unit tests of its use cases
on a MemoryUnitOfWork (shared/backbone/memory.py): the rows kept in the unit of work's tables, so
what a use case saves is seen by its own transaction and kept only on commit. Never used by the
service."""

import datetime as dt
from types import SimpleNamespace
from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.asset_coverage.adapters.inventory_index import asset_row, contract_row
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract


class MemoryInventoryIndex:
    """Tables asset_index by asset id, operational_contract_index by contract id."""

    def __init__(self, uow: MemoryUnitOfWork):
        self._assets = uow.table("asset_index")
        self._contracts = uow.table("operational_contract_index")

    async def save_asset(self, asset: Asset) -> None:
        self._assets[asset.id] = asset_row(asset)

    async def save_contract(self, contract: OperationalContract) -> None:
        self._contracts[UUID(contract.id)] = contract_row(contract)

    async def assets(self, *, kind: str | None = None, site: str | None = None, criticality: str | None = None,
                     owner: str | None = None, after: str | None = None, limit: int = 100) -> list:
        wanted = {"kind": kind, "site": site, "criticality": criticality, "owner": owner}
        rows = [r for key, r in sorted(self._assets.items()) if (after is None or key > after)
                and all(v is None or r[k] == v for k, v in wanted.items())]
        return [SimpleNamespace(**r) for r in rows[:limit]]

    async def contracts(self, *, state: str | None = None, origin: str | None = None, vendor: str | None = None,
                        contract_model: str | None = None, ends_before: dt.date | None = None,
                        after: UUID | None = None, limit: int = 100) -> list:
        wanted = {"state": state, "origin": origin, "contract_model": contract_model}
        rows = [r for key, r in sorted(self._contracts.items()) if (after is None or key > after)
                and all(v is None or r[k] == str(v) for k, v in wanted.items())
                and (vendor is None or (r["vendor"] or "").lower() == vendor.lower())
                and (ends_before is None or r["end_date"] < ends_before)]
        return [SimpleNamespace(**r) for r in rows[:limit]]


class MemoryViews:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow
        self.inventory = MemoryInventoryIndex(uow)
