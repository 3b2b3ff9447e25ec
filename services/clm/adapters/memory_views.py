"""The in-memory twins of contracting's query tables (views.SqlViews: requests and comment threads),
for unit tests of its use cases on a MemoryUnitOfWork (shared/backbone/memory.py). Never used by
the service."""

from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.clm.adapters.comment_index import thread_row
from services.clm.adapters.request_index import request_row
from services.clm.domain.comments import CommentThread
from services.clm.domain.contract import Contract


def _matching(rows, after: UUID | None, limit: int, filters: dict) -> list[dict]:
    found = [row for key, row in sorted(rows)
             if (after is None or key > after) and all(v is None or row[k] == v for k, v in filters.items())]
    return found[:limit]


class MemoryRequestIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_request(self, contract: Contract) -> None:
        self._uow.table("contract_requests")[contract.contract_uuid] = request_row(contract)

    async def requests(self, *, after: UUID | None, limit: int, **filters: str | None) -> list[dict]:
        return _matching(self._uow.table("contract_requests").items(), after, limit, filters)


class MemoryCommentIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_thread(self, thread: CommentThread) -> None:
        self._uow.table("comment_threads")[thread.thread_id] = thread_row(thread)

    async def threads(self, contract_id: UUID, *, after: UUID | None, limit: int, **filters) -> list[dict]:
        return _matching(self._uow.table("comment_threads").items(), after, limit,
                         {"contract_id": contract_id, **filters})


class MemoryViews:
    def __init__(self, uow: MemoryUnitOfWork):
        self.requests = MemoryRequestIndex(uow)
        self.comments = MemoryCommentIndex(uow)
