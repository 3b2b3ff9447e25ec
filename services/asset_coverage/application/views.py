"""The inventory's query tables as a port (the idiom of services/order_sync/application/indexing.py):
they follow the aggregates in the same transaction, saved as a set by following.save_coverage, so a
list never shows what was not committed, nor misses what was."""

import datetime as dt
from typing import Protocol

from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract


class InventoryIndex(Protocol):
    """asset_index and operational_contract_index: adapters/inventory_index.SqlInventoryIndex in the
    service, memory_views.MemoryInventoryIndex in unit tests."""

    async def save_assets(self, assets: list[Asset]) -> None: ...

    async def save_contracts(self, contracts: list[OperationalContract]) -> None: ...

    async def assets(self, *, kind: str | None, site: str | None, criticality: str | None, owner: str | None,
                     after: str | None, limit: int) -> list:
        """Rows of asset_index (its columns as attributes) by asset id from after `after`; None matches any."""

    async def contracts(self, *, state: str | None, origin: str | None, vendor: str | None,
                        contract_model: str | None, ends_before: dt.date | None, after, limit: int) -> list:
        """Rows of operational_contract_index by contract id from after `after`; `vendor` matched
        whatever its case, `ends_before`: end date before it; None matches any."""


def inventory(uow: UnitOfWork) -> InventoryIndex:
    return uow.views.inventory
