"""The library's query tables, written from the aggregates in the same transaction as their events
(so they can be rebuilt by replaying the streams): `library_clauses` lists the clauses and holds
each key once (the constraint that makes a key unique), `library_templates` lists the templates."""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from shared.backbone.unit_of_work import UnitOfWork
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.template import Template

metadata = sa.MetaData()

library_clauses = sa.Table(
    "library_clauses", metadata,
    sa.Column("clause_id", sa.Uuid, primary_key=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
)

library_templates = sa.Table(
    "library_templates", metadata,
    sa.Column("template_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
)


class SqlLibraryIndex:
    """`uow.views.library`: the unit of work's connection, read when used (it opens on `async with`)."""

    def __init__(self, uow: UnitOfWork):
        self._uow = uow

    @property
    def _conn(self):
        return self._uow.conn

    async def clause_with_key(self, key: str) -> UUID | None:
        return (await self._conn.execute(
            sa.select(library_clauses.c.clause_id).where(library_clauses.c.key == key))).scalar_one_or_none()

    async def follow_clause(self, clause: Clause) -> bool:
        """Records the clause's latest version; False if another clause holds its key."""
        latest = clause.latest
        statement = insert(library_clauses).values(clause_id=latest.clause_id, key=clause.key, title=latest.title,
                                                   latest_version=latest.version)
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
        if (await self._conn.execute(statement)).rowcount == 1:
            return True
        updated = await self._conn.execute(
            sa.update(library_clauses)
            .where(library_clauses.c.clause_id == latest.clause_id, library_clauses.c.key == clause.key)
            .values(title=latest.title, latest_version=latest.version))
        return updated.rowcount == 1

    async def follow_template(self, template: Template) -> None:
        latest = template.latest
        statement = insert(library_templates).values(template_id=latest.template_id, kind=latest.kind, name=latest.name,
                                                     latest_version=latest.version)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=["template_id"], set_={"name": latest.name, "latest_version": latest.version}))

    async def clauses(self, after: UUID | None, limit: int) -> list:
        query = sa.select(library_clauses).order_by(library_clauses.c.clause_id).limit(limit)
        if after is not None:
            query = query.where(library_clauses.c.clause_id > after)
        return list(await self._conn.execute(query))

    async def templates(self, kind: str | None, after: UUID | None, limit: int) -> list:
        query = sa.select(library_templates).order_by(library_templates.c.template_id).limit(limit)
        if kind is not None:
            query = query.where(library_templates.c.kind == kind)
        if after is not None:
            query = query.where(library_templates.c.template_id > after)
        return list(await self._conn.execute(query))
