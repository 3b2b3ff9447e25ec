"""Obligations' query tables, written from the aggregate in the transaction of its events (so they
can be rebuilt by replaying the streams): `obligations` lists a contract's obligations (GET
/api/v1/contracts/{id}/obligations); `obligation_evidence` finds the stored document of an
occurrence's evidence (the event carries its SHA-256, the document store's rows are by id)."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.clm.domain.obligation import Obligation

metadata = sa.MetaData()
_AT = sa.DateTime(timezone=True)

obligations = sa.Table(
    "obligations", metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owners", ARRAY(sa.Text), nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("rrule", sa.Text),
    sa.Column("rrule_start", sa.Date),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("recorded_at", _AT, nullable=False),
    sa.Column("canceled_at", _AT),
    sa.Index("obligations_contract", "contract_id", "obligation_id"),
)

obligation_evidence = sa.Table(
    "obligation_evidence", metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("document_id", sa.Uuid, nullable=False),
)


def row_of(obligation: Obligation) -> dict:
    r = obligation.recorded
    return {"obligation_id": r.obligation_id, "contract_id": r.contract_id, "kind": r.kind,
            "description": r.description, "owners": r.owners, "due_date": r.due_date,
            "rrule": r.recurrence.rrule if r.recurrence else None,
            "rrule_start": r.recurrence.start if r.recurrence else None, "origin": r.origin, "recorded_at": r.at,
            "canceled_at": obligation.canceled.at if obligation.canceled else None}


async def save(conn: AsyncConnection, obligation: Obligation) -> None:
    row = row_of(obligation)
    statement = insert(obligations).values(row)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[obligations.c.obligation_id], set_={k: v for k, v in row.items() if k != "obligation_id"}))


async def of_contract(conn: AsyncConnection, contract_id: UUID, *, after: UUID | None, limit: int) -> list[dict]:
    o = obligations
    query = sa.select(o).where(o.c.contract_id == contract_id).order_by(o.c.obligation_id).limit(limit)
    if after is not None:
        query = query.where(o.c.obligation_id > after)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def save_evidence(conn: AsyncConnection, obligation_id: UUID, due_on: dt.date, document_id: UUID) -> None:
    await conn.execute(insert(obligation_evidence).values(obligation_id=obligation_id, due_on=due_on,
                                                          document_id=document_id).on_conflict_do_nothing())


async def evidence_of(conn: AsyncConnection, obligation_id: UUID, due_on: dt.date) -> UUID | None:
    e = obligation_evidence
    return (await conn.execute(sa.select(e.c.document_id).where(
        e.c.obligation_id == obligation_id, e.c.due_on == due_on))).scalar_one_or_none()
