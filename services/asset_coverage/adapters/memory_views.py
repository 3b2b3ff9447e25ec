"""The in-memory twins of operations' query tables (views.SqlViews), for unit tests of its use cases
on a MemoryUnitOfWork (shared/backbone/memory.py). Never used by the service."""

from shared.backbone.memory import MemoryUnitOfWork
from services.asset_coverage.adapters.memory_coverage_index import MemoryCoverageIndex


class MemoryViews:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow
        self.coverage = MemoryCoverageIndex(uow)
