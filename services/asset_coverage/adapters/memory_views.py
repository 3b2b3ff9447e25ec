"""The in-memory twins of operations' query tables (views.SqlViews), for unit tests of its use cases
on a MemoryUnitOfWork (shared/backbone/memory.py). Never used by the service."""

from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.asset_coverage.adapters.renewal_task_index import matches, task_row
from services.asset_coverage.domain.renewal_task import RenewalTask


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
        self.renewal_tasks = MemoryRenewalTaskIndex(uow)
