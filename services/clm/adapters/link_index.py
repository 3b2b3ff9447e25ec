"""Contracting's query table of links (`contract_links`): which amendments and successors a
contract has, written with the linked contract's first events (ContractLinked), so a renew finds
an existing successor and GET /contracts/{id}/links lists a parent's amendments without a scan.

`SqlLinkIndex` is it in a unit of work's transaction (`uow.views.links`, views.py); memory_views.py
holds its in-memory twin for unit tests."""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contract_links import ContractLinked

metadata = sa.MetaData()

contract_links = sa.Table(
    "contract_links", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("parent_id", sa.Uuid, nullable=False),
    sa.Column("relation", sa.Text, nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Index("contract_links_parent", "parent_id", "relation", "effective_date"),
)


def link_row(link: ContractLinked) -> dict:
    return {"contract_id": link.contract_id, "parent_id": link.parent_id, "relation": link.relation,
            "effective_date": link.effective_date}


class SqlLinkIndex:
    def __init__(self, uow: UnitOfWork):
        self._conn: AsyncConnection = uow.conn

    async def save_link(self, link: ContractLinked) -> None:
        await self._conn.execute(insert(contract_links).values(link_row(link)).on_conflict_do_nothing())

    async def linked_to(self, parent_id: UUID, relation: str) -> list[UUID]:
        """The contracts linked to `parent_id` by `relation`, by effective date then id."""
        t = contract_links
        rows = await self._conn.execute(sa.select(t.c.contract_id).where(t.c.parent_id == parent_id, t.c.relation == relation)
                                        .order_by(t.c.effective_date, t.c.contract_id))
        return list(rows.scalars())
