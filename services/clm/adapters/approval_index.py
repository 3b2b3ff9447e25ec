"""Approvals' query tables, written from the aggregates in the same transaction as their events
(so they can be rebuilt by replaying the streams): `approval_queue` holds each open step of a
request awaiting approval, with its current approvers as `role:<role>` / `user:<sub>` keys (GET
/api/v1/approvals, the approvers' queue); `approval_matrices` lists the matrices.

`SqlApprovalIndex` is it in a unit of work's transaction (`uow.views.approvals`, views.py);
memory_views.py holds its in-memory twin for unit tests."""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from shared.backbone.unit_of_work import UnitOfWork
from services.clm.domain.approval_matrix import ApprovalMatrix
from services.clm.domain.contract import Contract
from services.clm.domain.contract.approval import key_of

metadata = sa.MetaData()

approval_queue = sa.Table(
    "approval_queue", metadata,
    sa.Column("step_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("approvers", ARRAY(sa.Text), nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("submitted_by", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("at_risk", sa.Boolean, nullable=False),
    sa.Index("approval_queue_contract", "contract_id"),
    sa.Index("approval_queue_approvers", "approvers", postgresql_using="gin"),
)

approval_matrices = sa.Table(
    "approval_matrices", metadata,
    sa.Column("matrix_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("published_by", sa.Text, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
)


def queue_rows(contract: Contract) -> list[dict]:
    """The contract's open steps while it awaits approval (none otherwise: cancelled, rejected...)."""
    if contract.request_state != "awaiting_approval" or not contract.round_open:
        return []
    return [{
        "step_id": s.routed.step_id, "contract_id": contract.contract_uuid, "number": contract.requested.number,
        "title": contract.request_terms.title, "name": s.routed.name, "round": contract.route.round,
        "level": s.level, "approvers": sorted(key_of(a) for a in s.approvers),
        "requested_by": contract.requested.requested_by, "submitted_by": contract.route.by,
        "opened_at": s.opened_at, "due_at": s.due_at, "at_risk": s.at_risk,
    } for s in contract.steps.values() if s.state == "open"]


def matrix_row(matrix: ApprovalMatrix) -> dict:
    latest = matrix.latest
    return {"matrix_id": latest.matrix_id, "name": latest.name, "latest_version": latest.version,
            "published_by": latest.published_by, "published_at": latest.published_at}


class SqlApprovalIndex:
    def __init__(self, uow: UnitOfWork):
        self._uow = uow

    @property
    def _conn(self):
        return self._uow.conn

    async def save_steps(self, contract: Contract) -> None:
        q = approval_queue
        await self._conn.execute(sa.delete(q).where(q.c.contract_id == contract.contract_uuid))
        rows = queue_rows(contract)
        if rows:
            await self._conn.execute(sa.insert(q), rows)

    async def pending(self, *, keys: list[str], excluding: str | None, after: UUID | None, limit: int) -> list[dict]:
        """Open steps any of `keys` may decide, in step id order; not those of requests `excluding` made or submitted."""
        q = approval_queue
        query = sa.select(q).where(q.c.approvers.overlap(sa.cast(keys, ARRAY(sa.Text)))).order_by(q.c.step_id).limit(limit)
        if excluding is not None:
            query = query.where(q.c.requested_by != excluding, q.c.submitted_by != excluding)
        if after is not None:
            query = query.where(q.c.step_id > after)
        return [dict(r) for r in (await self._conn.execute(query)).mappings()]

    async def save_matrix(self, matrix: ApprovalMatrix) -> None:
        row = matrix_row(matrix)
        statement = insert(approval_matrices).values(row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[approval_matrices.c.matrix_id], set_={k: v for k, v in row.items() if k != "matrix_id"}))

    async def matrices(self, *, after: UUID | None, limit: int) -> list[dict]:
        m = approval_matrices
        query = sa.select(m).order_by(m.c.matrix_id).limit(limit)
        if after is not None:
            query = query.where(m.c.matrix_id > after)
        return [dict(r) for r in (await self._conn.execute(query)).mappings()]
