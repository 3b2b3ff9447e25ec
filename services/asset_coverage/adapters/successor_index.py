"""Operations' table of renewal successors from contracting (`contracting_successors`): clm's
ContractLinked (relation successor) names a successor's predecessor while the successor is still a
request; when the successor is activated, its operational side opens knowing the predecessor and
carries its asset links over (application/registry.py).

`SqlSuccessorIndex` is it in a unit of work's transaction (`uow.views.successors`, views.py);
memory_views.py holds its in-memory twin for unit tests."""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = sa.MetaData()

contracting_successors = sa.Table(
    "contracting_successors", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("predecessor_id", sa.Uuid, nullable=False),
)


class SqlSuccessorIndex:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    async def save_successor(self, contract_id: UUID, predecessor_id: UUID) -> None:
        await self._conn.execute(insert(contracting_successors).values(contract_id=contract_id, predecessor_id=predecessor_id)
                                 .on_conflict_do_nothing())

    async def predecessor_of(self, contract_id: UUID) -> UUID | None:
        t = contracting_successors
        return (await self._conn.execute(sa.select(t.c.predecessor_id).where(t.c.contract_id == contract_id))
                ).scalar_one_or_none()
