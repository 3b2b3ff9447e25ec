"""Contracting's query table of comment threads (`comment_threads`): one row per thread with its
comments (JSONB, in order), rewritten from the aggregate in the same transaction as its events, so
GET /contracts/{id}/comments filters and pages without replaying streams.

`SqlCommentIndex` is it in a unit of work's transaction (`uow.views.comments`, adapters/views.py);
memory_views.py holds its in-memory twin for unit tests.
"""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.unit_of_work import UnitOfWork
from services.clm.domain.comments import CommentThread

metadata = sa.MetaData()

comment_threads = sa.Table(
    "comment_threads", metadata,
    sa.Column("thread_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("version_number", sa.Integer, nullable=False),
    sa.Column("clause_number", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("started_by", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_by", sa.Text),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution_note", sa.Text),
    sa.Column("comments", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # GET /contracts/{id}/comments: a contract's threads in the cursor's order.
    sa.Index("comment_threads_contract", "contract_id", "thread_id"),
)

FILTERS = ("status", "version_number", "clause_number")


def thread_row(thread: CommentThread) -> dict:
    first, resolved = thread.comments[0], thread.resolved
    return {
        "thread_id": thread.thread_id, "contract_id": thread.contract_id, "version_number": thread.version_number,
        "clause_number": thread.clause_number, "status": "open" if thread.is_open else "resolved",
        "started_by": first.author, "started_at": first.at,
        "resolved_by": resolved.by if resolved else None, "resolved_at": resolved.at if resolved else None,
        "resolution_note": resolved.note if resolved else None,
        "comments": [c.model_dump(mode="json", include={"comment_id", "reply_to", "text", "author", "at"})
                     for c in thread.comments],
        "version": thread.version,
    }


class SqlCommentIndex:
    def __init__(self, uow: UnitOfWork):
        self._conn: AsyncConnection = uow.conn

    async def save_thread(self, thread: CommentThread) -> None:
        row = thread_row(thread)
        statement = insert(comment_threads).values(row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[comment_threads.c.thread_id], set_={k: v for k, v in row.items() if k != "thread_id"}))

    async def threads(self, contract_id: UUID, *, after: UUID | None, limit: int, **filters) -> list[dict]:
        t = comment_threads
        query = sa.select(t).where(t.c.contract_id == contract_id).order_by(t.c.thread_id).limit(limit)
        for name, value in filters.items():
            if value is not None:
                query = query.where(t.c[name] == value)
        if after is not None:
            query = query.where(t.c.thread_id > after)
        return [dict(r) for r in (await self._conn.execute(query)).mappings()]
