"""Operations' query table of renewal tasks (`renewal_tasks`): one row per task, rewritten from the
aggregate in the same transaction as its events, so GET /renewal-tasks filters by state, contract,
assignee and end date and pages without replaying streams.

`SqlRenewalTaskIndex` is it in a unit of work's transaction (`uow.views.renewal_tasks`,
adapters/views.py); memory_views.py holds its in-memory twin for unit tests.
"""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.domain.renewal_task import RenewalTask

metadata = sa.MetaData()

renewal_tasks = sa.Table(
    "renewal_tasks", metadata,
    sa.Column("task_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("assignees", ARRAY(sa.Text), nullable=False),
    sa.Column("deadlines", ARRAY(sa.Integer), nullable=False),
    sa.Column("completed_by", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("superseded_because", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("renewal_tasks_contract", "contract_id", "task_id"),
    sa.Index("renewal_tasks_state", "state", "task_id"),
    sa.Index("renewal_tasks_assignees", "assignees", postgresql_using="gin"),
)


def task_row(task: RenewalTask) -> dict:
    return {
        "task_id": task.task_id, "contract_id": task.contract_id, "end_date": task.end_date, "title": task.title,
        "state": str(task.state), "assignees": list(task.assignees), "deadlines": list(task.deadlines),
        "completed_by": task.completed_by, "note": task.note, "superseded_because": task.superseded_because,
        "version": task.version,
    }


def matches(row: dict, *, state: str | None, contract_id: UUID | None, assignee: str | None,
            due_before: dt.date | None) -> bool:
    return (state in (None, row["state"]) and contract_id in (None, row["contract_id"])
            and (assignee is None or assignee in row["assignees"])
            and (due_before is None or row["end_date"] <= due_before))


class SqlRenewalTaskIndex:
    def __init__(self, uow: UnitOfWork):
        self._conn: AsyncConnection = uow.conn

    async def save_task(self, task: RenewalTask) -> None:
        row = task_row(task)
        statement = insert(renewal_tasks).values(row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[renewal_tasks.c.task_id], set_={k: v for k, v in row.items() if k != "task_id"}))

    async def tasks(self, *, state: str | None = None, contract_id: UUID | None = None, assignee: str | None = None,
                    due_before: dt.date | None = None, after: UUID | None = None, limit: int = 100) -> list[dict]:
        """Rows by task id from after `after`; `due_before`: periods ending on or before that date."""
        t = renewal_tasks.c
        query = sa.select(renewal_tasks).order_by(t.task_id).limit(limit)
        if state is not None:
            query = query.where(t.state == state)
        if contract_id is not None:
            query = query.where(t.contract_id == contract_id)
        if assignee is not None:
            query = query.where(t.assignees.contains([assignee]))
        if due_before is not None:
            query = query.where(t.end_date <= due_before)
        if after is not None:
            query = query.where(t.task_id > after)
        return [dict(r) for r in (await self._conn.execute(query)).mappings()]
