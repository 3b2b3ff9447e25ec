"""Links between contracts on the shared record (phase 7): one row per amendment or renewal
successor, naming its parent (the amended contract, or the predecessor), from clm's ContractLinked.

The record shows a parent's amendments and the whole renewal chain; GET /contracts/{id}/terms
applies the amendments in force on a day to the parent's terms. Both read the linked contracts'
own record rows (their state, execution and negotiated terms), so the order of the events of
different streams does not matter."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.contract_records import contracts, metadata
from services.projection.adapters.contracting_records import progress

links = sa.Table(
    "contract_links", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("relation", sa.Text, nullable=False),  # amendment | successor
    sa.Column("parent_id", sa.Uuid, nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("linked_by", sa.Text, nullable=False),
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("contract_links_parent", "parent_id", "relation"),
)

# Negotiated terms an amendment may change (each as its latest version or record set it).
TERM_FIELDS = ("liability_cap", "liability_cap_currency", "payment_days", "auto_renewal", "governing_law")
# What a linked contract's own record says of it: its request's state, whether it is in force, its terms.
LINKED = (links.c.contract_id, links.c.relation, links.c.parent_id, links.c.effective_date,
          contracts.c.request_state, contracts.c.state, progress.c.executed_version,
          *(contracts.c[name] for name in TERM_FIELDS))


async def add_link(conn: AsyncConnection, contract_id: UUID, **values) -> None:
    await conn.execute(insert(links).values(contract_id=contract_id, **values).on_conflict_do_nothing())


async def link_of(conn: AsyncConnection, contract_id: UUID) -> dict | None:
    row = (await conn.execute(sa.select(links).where(links.c.contract_id == contract_id))).mappings().one_or_none()
    return dict(row) if row else None


async def linked_to(conn: AsyncConnection, parent_ids: list[UUID], relation: str) -> list[dict]:
    """The contracts linked to any of `parent_ids` by `relation`, by effective date, with their state."""
    query = (sa.select(*LINKED)
             .outerjoin(contracts, contracts.c.contract_id == links.c.contract_id)
             .outerjoin(progress, progress.c.contract_id == links.c.contract_id)
             .where(links.c.parent_id.in_(parent_ids), links.c.relation == relation)
             .order_by(links.c.effective_date, links.c.linked_at, links.c.contract_id))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def chain_of(conn: AsyncConnection, contract_id: UUID) -> list[UUID]:
    """The renewal chain through `contract_id`, oldest first: its predecessors, it, and each live
    (not cancelled) successor after it."""
    before: list[UUID] = []
    current, seen = contract_id, {contract_id}
    while (link := await link_of(conn, current)) and link["relation"] == "successor" and link["parent_id"] not in seen:
        current = link["parent_id"]
        seen.add(current)
        before.insert(0, current)
    after: list[UUID] = []
    current = contract_id
    while successor := await live_successor(conn, current):
        if successor in seen:
            break
        seen.add(successor)
        after.append(successor)
        current = successor
    return [*before, contract_id, *after]


async def live_successor(conn: AsyncConnection, contract_id: UUID) -> UUID | None:
    live = [row["contract_id"] for row in await linked_to(conn, [contract_id], "successor")
            if row["request_state"] != "cancelled"]
    return live[-1] if live else None


def in_force(row: dict) -> bool:
    """An amendment counts once executed (signed) or active."""
    return row["executed_version"] is not None or row["state"] == "active"


async def clear(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("TRUNCATE contract_links"))


def effective_on(rows: list[dict], day: dt.date) -> list[dict]:
    return [row for row in rows if in_force(row) and row["effective_date"] <= day]
