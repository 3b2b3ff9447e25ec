"""clm's copy of order sync's catalogue (`catalogue_copy`: one row per SKU, its latest version,
from order_sync.catalogue.v1) and the contracts whose activation waits on a SKU
(`activation_waits`), so a catalogue change retries exactly those. Both follow the events in the
consumer's transaction. `SqlCatalogueCopy` is it in a unit of work (`uow.views.catalogue`);
memory_views.py holds its in-memory twin."""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.catalogue import EntitlementTemplate
from services.clm.domain.contract.readiness import CatalogueCopy

metadata = sa.MetaData()

catalogue_copy = sa.Table(
    "catalogue_copy", metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("entitlements", JSONB, nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False),
)

activation_waits = sa.Table(
    "activation_waits", metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("contract_id", sa.Uuid, primary_key=True),
)


def copy_row(entry: CatalogueCopy) -> dict:
    return {"sku": entry.sku, "version": entry.version, "product": entry.product, "retired": entry.retired,
            "entitlements": [e.model_dump(mode="json") for e in entry.entitlements]}


def copy_of(row) -> CatalogueCopy:
    return CatalogueCopy(sku=row["sku"], version=row["version"], product=row["product"], retired=row["retired"],
                         entitlements=[EntitlementTemplate(**e) for e in row["entitlements"]])


class SqlCatalogueCopy:
    def __init__(self, uow: UnitOfWork):
        self._conn: AsyncConnection = uow.conn

    async def save_entry(self, entry: CatalogueCopy) -> bool:
        """Keeps the newest version only (an older one arriving late changes nothing): whether it changed."""
        row, t = copy_row(entry), catalogue_copy
        statement = insert(t).values(row).on_conflict_do_update(
            index_elements=[t.c.sku], set_={k: v for k, v in row.items() if k != "sku"},
            where=t.c.version < entry.version)
        return (await self._conn.execute(statement)).rowcount > 0

    async def entries(self, skus: set[str]) -> dict[str, CatalogueCopy]:
        if not skus:
            return {}
        rows = await self._conn.execute(sa.select(catalogue_copy).where(catalogue_copy.c.sku.in_(sorted(skus))))
        return {row["sku"]: copy_of(row) for row in rows.mappings()}

    async def wait(self, contract_id: UUID, skus: set[str]) -> None:
        """The contract waits on these SKUs (and no others) until it is activated."""
        await self._conn.execute(sa.delete(activation_waits).where(activation_waits.c.contract_id == contract_id))
        if skus:
            await self._conn.execute(insert(activation_waits).values(
                [{"sku": sku, "contract_id": contract_id} for sku in sorted(skus)]))

    async def waiting_on(self, sku: str) -> list[UUID]:
        rows = await self._conn.execute(sa.select(activation_waits.c.contract_id)
                                        .where(activation_waits.c.sku == sku).order_by(activation_waits.c.contract_id))
        return list(rows.scalars())
