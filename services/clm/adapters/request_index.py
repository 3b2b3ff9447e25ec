"""Contracting's query table of requests (`contract_requests`): one row per requested contract,
rewritten from the aggregate in the same transaction as its events, so GET /contract-requests can
filter and page without replaying streams (and the table can be rebuilt from them).

`SqlRequestIndex` is it in a unit of work's transaction (`uow.views.requests`, views.py); memory_views.py holds
its in-memory twin for unit tests.
"""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.unit_of_work import UnitOfWork
from services.clm.domain.contract import Contract

metadata = sa.MetaData()

contract_requests = sa.Table(
    "contract_requests", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("account_name", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("quote_id", sa.Uuid),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("classification", sa.Text),
    sa.Column("queue", sa.Text),
    sa.Column("assignee", sa.Text),
    sa.Column("assignee_role", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    # The filters of GET /contract-requests, each followed by the cursor's order.
    sa.Index("contract_requests_state", "state", "contract_id"),
    sa.Index("contract_requests_queue", "queue", "contract_id"),
    sa.Index("contract_requests_assignee", "assignee", "contract_id"),
)

FILTERS = ("state", "classification", "queue", "assignee", "origin")


def request_row(contract: Contract) -> dict:
    terms, assignment, last = contract.request_terms, contract.assignment, contract.history[-1]
    return {
        "contract_id": contract.contract_uuid, "number": contract.requested.number, "title": terms.title,
        "account_name": terms.account.name, "origin": contract.requested.origin, "quote_id": contract.requested.quote_id,
        "state": str(contract.request_state), "state_since": last.at, "classification": contract.classification,
        "queue": assignment.queue if assignment else None, "assignee": assignment.assignee if assignment else None,
        "assignee_role": assignment.assignee_role if assignment else None, "version": contract.version,
    }


class SqlRequestIndex:
    def __init__(self, uow: UnitOfWork):
        self._conn: AsyncConnection = uow.conn

    async def save_request(self, contract: Contract) -> None:
        row = request_row(contract)
        statement = insert(contract_requests).values(row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[contract_requests.c.contract_id], set_={k: v for k, v in row.items() if k != "contract_id"}))

    async def requests(self, *, after: UUID | None, limit: int, **filters: str | None) -> list[dict]:
        t = contract_requests
        query = sa.select(t).order_by(t.c.contract_id).limit(limit)
        for name, value in filters.items():
            if value is not None:
                query = query.where(t.c[name] == value)
        if after is not None:
            query = query.where(t.c.contract_id > after)
        return [dict(r) for r in (await self._conn.execute(query)).mappings()]
