"""The in-memory twins of operations' query tables (views.SqlViews), for unit tests of its use cases
on a MemoryUnitOfWork (shared/backbone/memory.py): the rows kept in the unit of work's tables, so
what a use case saves is seen by its own transaction and kept only on commit. Never used by the
service."""

import datetime as dt
from types import SimpleNamespace
from uuid import UUID

from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from shared.events.change_windows import ChangeWindowPlan
from services.asset_coverage.adapters.change_window_index import window_row
from services.asset_coverage.adapters.inventory_index import asset_row, contract_row
from services.asset_coverage.adapters.memory_coverage_index import MemoryCoverageIndex
from services.asset_coverage.adapters.renewal_task_index import matches, task_row
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.change_window import ChangeWindow
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.renewal_task import RenewalTask


class MemoryInventoryIndex:
    """Tables asset_index by asset id, operational_contract_index by contract id."""

    def __init__(self, uow: MemoryUnitOfWork):
        self._assets = uow.table("asset_index")
        self._contracts = uow.table("operational_contract_index")

    async def save_assets(self, assets: list[Asset]) -> None:
        self._assets.update({asset.id: asset_row(asset) for asset in assets})

    async def save_contracts(self, contracts: list[OperationalContract]) -> None:
        self._contracts.update({UUID(contract.id): contract_row(contract) for contract in contracts})

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


class MemoryRenewalTaskIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_task(self, task: RenewalTask) -> None:
        self._uow.table("renewal_tasks")[task.task_id] = task_row(task)

    async def tasks(self, *, after: UUID | None = None, limit: int = 100, **filters) -> list[dict]:
        filters = {"state": None, "contract_id": None, "assignee": None, "due_before": None, **filters}
        rows = sorted(self._uow.table("renewal_tasks").items())
        return [row for key, row in rows if (after is None or key > after) and matches(row, **filters)][:limit]


class MemoryViews:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow
        self.inventory = MemoryInventoryIndex(uow)
        self.change_windows = MemoryChangeWindows(uow)
        self.coverage = MemoryCoverageIndex(uow)
        self.renewal_tasks = MemoryRenewalTaskIndex(uow)
        self.successors = MemorySuccessorIndex(uow)


class MemoryChangeWindows:
    """The in-memory twin of SqlChangeWindows (unit tests), over a MemoryUnitOfWork's tables."""

    def __init__(self, uow):
        self._rows = uow.table("change_window_index")

    async def lock_scope(self, asset_ids: list[str], *sites: str | None) -> None:
        pass  # one task at a time

    async def save(self, window: ChangeWindow) -> None:
        self._rows[window.window_id] = SimpleNamespace(**window_row(window))

    @staticmethod
    def _meet(a, b) -> bool:
        return (not a.canceled and not b.canceled and a.starts_at < b.ends_at and b.starts_at < a.ends_at
                and (bool(set(a.asset_ids) & set(b.asset_ids)) or (a.site is not None and a.site == b.site)))

    async def overlapping(self, plan: ChangeWindowPlan, *, excluding: UUID) -> list[UUID]:
        probe = SimpleNamespace(canceled=False, **plan.model_dump(include={"starts_at", "ends_at", "asset_ids", "site"}))
        return sorted(r.window_id for r in self._rows.values() if r.window_id != excluding and self._meet(probe, r))

    async def windows(self, *, asset_id=None, site=None, assets_at_site=None, starting_before=None,
                      ending_after=None, overlapping=None, owner=None, include_canceled=True, after=None,
                      limit=None) -> list:
        rows = sorted(self._rows.values(), key=lambda r: r.window_id)
        found = [
            r for r in rows
            if (asset_id is None or asset_id in r.asset_ids)
            and (site is None or r.site == site or bool(set(assets_at_site or ()) & set(r.asset_ids)))
            and (owner is None or r.owner == owner)
            and (starting_before is None or r.starts_at < starting_before)
            and (ending_after is None or r.ends_at > ending_after)
            and (include_canceled or not r.canceled)
            and (overlapping is None or overlapping == any(self._meet(r, o) for o in rows if o is not r))
            and (after is None or r.window_id > after)
        ]
        return found[:limit] if limit is not None else found


class MemorySuccessorIndex:
    """The in-memory twin of SqlSuccessorIndex (unit tests)."""

    def __init__(self, uow):
        self._uow = uow

    async def save_successor(self, contract_id, predecessor_id) -> None:
        self._uow.table("contracting_successors").setdefault(contract_id, predecessor_id)

    async def predecessor_of(self, contract_id):
        return self._uow.table("contracting_successors").get(contract_id)
