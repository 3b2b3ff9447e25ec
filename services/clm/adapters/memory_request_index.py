"""The in-memory twin of request_index.SqlRequestIndex, for unit tests of contracting's use cases
on a MemoryUnitOfWork (shared/backbone/memory.py). Never used by the service."""

from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.clm.adapters.request_index import request_row
from services.clm.domain.contract import Contract


class MemoryRequestIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_request(self, contract: Contract) -> None:
        self._uow.table("contract_requests")[contract.contract_uuid] = request_row(contract)

    async def requests(self, *, after: UUID | None, limit: int, **filters: str | None) -> list[dict]:
        rows = [
            row for key, row in sorted(self._uow.table("contract_requests").items())
            if (after is None or key > after) and all(v is None or row[k] == v for k, v in filters.items())
        ]
        return rows[:limit]
