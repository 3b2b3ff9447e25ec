"""The in-memory twins of contracting's query tables (views.SqlViews: requests, comment threads, library, approvals),
for unit tests of its use cases on a MemoryUnitOfWork (shared/backbone/memory.py). Never used by
the service."""

from types import SimpleNamespace
from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.clm.adapters.approval_index import matrix_row, queue_rows
from services.clm.adapters.catalogue_copy import copy_of, copy_row
from services.clm.adapters.comment_index import thread_row
from services.clm.adapters.link_index import link_row
from services.clm.adapters.request_index import request_row
from services.clm.domain.approval_matrix import ApprovalMatrix
from services.clm.domain.comments import CommentThread
from services.clm.domain.contract import Contract
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.template import Template


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


class MemoryLibraryIndex:
    """As SqlLibraryIndex: one clause per key (the first to take it keeps it), rows by id."""

    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def clause_with_key(self, key: str) -> UUID | None:
        return next((row.clause_id for row in self._uow.table("library_clauses").values() if row.key == key), None)

    async def follow_clause(self, clause: Clause) -> bool:
        latest = clause.latest
        holder = await self.clause_with_key(clause.key)
        if holder is not None and holder != latest.clause_id:
            return False
        self._uow.table("library_clauses")[latest.clause_id] = SimpleNamespace(
            clause_id=latest.clause_id, key=clause.key, title=latest.title, latest_version=latest.version)
        return True

    async def follow_template(self, template: Template) -> None:
        latest = template.latest
        self._uow.table("library_templates")[latest.template_id] = SimpleNamespace(
            template_id=latest.template_id, kind=latest.kind, name=latest.name, latest_version=latest.version)

    async def clauses(self, after: UUID | None, limit: int) -> list:
        rows = sorted(self._uow.table("library_clauses").items())
        return [row for key, row in rows if after is None or key > after][:limit]

    async def templates(self, kind: str | None, after: UUID | None, limit: int) -> list:
        rows = sorted(self._uow.table("library_templates").items())
        return [row for key, row in rows
                if (after is None or key > after) and (kind is None or row.kind == kind)][:limit]


class MemoryApprovalIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_steps(self, contract: Contract) -> None:
        table = self._uow.table("approval_queue")  # a transaction's overlay: a removed row is None
        for step_id in [k for k, row in table.items() if row and row["contract_id"] == contract.contract_uuid]:
            table[step_id] = None
        table.update({row["step_id"]: row for row in queue_rows(contract)})

    async def pending(self, *, keys: list[str], excluding: str | None, after: UUID | None, limit: int) -> list[dict]:
        rows = sorted(self._uow.table("approval_queue").items())
        return [row for key, row in rows if row and (after is None or key > after) and set(keys) & set(row["approvers"])
                and excluding not in (row["requested_by"], row["submitted_by"])][:limit]

    async def save_matrix(self, matrix: ApprovalMatrix) -> None:
        row = matrix_row(matrix)
        self._uow.table("approval_matrices")[row["matrix_id"]] = row

    async def matrices(self, *, after: UUID | None, limit: int) -> list[dict]:
        return _matching(self._uow.table("approval_matrices").items(), after, limit, {})


class MemoryCatalogueCopy:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_entry(self, entry) -> bool:
        table = self._uow.table("catalogue_copy")
        if entry.sku in table and table[entry.sku]["version"] >= entry.version:
            return False
        table[entry.sku] = copy_row(entry)
        return True

    async def entries(self, skus: set[str]) -> dict:
        table = self._uow.table("catalogue_copy")
        return {sku: copy_of(table[sku]) for sku in skus if sku in table}

    async def wait(self, contract_id: UUID, skus: set[str]) -> None:
        self._uow.table("activation_waits")[contract_id] = frozenset(skus)  # by contract: rows are never deleted here

    async def waiting_on(self, sku: str) -> list[UUID]:
        return sorted(c for c, skus in self._uow.table("activation_waits").items() if sku in skus)


class MemoryLinkIndex:
    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow

    async def save_link(self, link) -> None:
        self._uow.table("contract_links").setdefault(link.contract_id, link_row(link))

    async def linked_to(self, parent_id: UUID, relation: str) -> list[UUID]:
        rows = [r for r in self._uow.table("contract_links").values() if (r["parent_id"], r["relation"]) == (parent_id, relation)]
        return [r["contract_id"] for r in sorted(rows, key=lambda r: (r["effective_date"], r["contract_id"]))]


class MemoryViews:
    def __init__(self, uow: MemoryUnitOfWork):
        self.links = MemoryLinkIndex(uow)
        self.catalogue = MemoryCatalogueCopy(uow)
        self.requests = MemoryRequestIndex(uow)
        self.comments = MemoryCommentIndex(uow)
        self.library = MemoryLibraryIndex(uow)
        self.approvals = MemoryApprovalIndex(uow)
