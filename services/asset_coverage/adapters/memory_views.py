"""The in-memory twins of operations' query tables (views.SqlViews), for unit tests of its use cases
on a MemoryUnitOfWork (shared/backbone/memory.py). Never used by the service."""

from types import SimpleNamespace
from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from shared.events.change_windows import ChangeWindowPlan
from services.asset_coverage.adapters.change_window_index import window_row
from services.asset_coverage.domain.change_window import ChangeWindow


class MemoryViews:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow
        self.change_windows = MemoryChangeWindows(uow)


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
