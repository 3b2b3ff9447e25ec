"""Order sync's query tables of the catalogue and of orders, rewritten from the aggregates in the
same transaction as their events (docs/contracting/activation.md):

- `catalogue_index`: each SKU's current version, product and whether retired (GET /catalogue);
- `order_index`: each order's contract, state, how many lines are in fallout (GET /orders?fallout=true)
  and their SKUs (the orders a catalogue entry published retries).

`SqlOrderIndexes` is mixed into SqlIndexes (`uow.views`); `MemoryOrderIndexes` into MemoryIndexes.
An order's row is kept back at `save_order` and written at commit with the others of the
transaction in one upsert (`flush_orders`, from the views' `flush()`), as contracts' rows are
(indexes.py); the reads of order_index flush first."""

import json
from types import SimpleNamespace
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.order_sync.domain.catalogue import CatalogueEntry
from services.order_sync.domain.order import Order

metadata = sa.MetaData()

catalogue_index = sa.Table(
    "catalogue_index", metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False),
    sa.Index("catalogue_index_retired", "retired", "sku"),
)

order_index = sa.Table(
    "order_index", metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("fallout_lines", sa.Integer, nullable=False),
    sa.Column("fallout_skus", ARRAY(sa.Text), nullable=False),  # the SKUs of its lines in fallout
    sa.Index("order_index_fallout", "fallout_lines", "order_id"),
)


def order_state(order: Order) -> str:
    return "fulfilled" if order.completed else "fallout" if order.fallout else "open"


def catalogue_row(entry: CatalogueEntry) -> dict:
    return {"sku": entry.sku, "version": entry.version, "product": entry.published.product, "retired": entry.retired}


def order_row(order: Order) -> dict:
    return {"order_id": order.order_id, "contract_id": order.contract_id, "state": order_state(order),
            "fallout_lines": len(order.fallout),
            "fallout_skus": sorted({order.lines[line_id].sku for line_id in order.fallout})}


_UPSERT_ORDERS = sa.text("""
    INSERT INTO order_index AS o (order_id, contract_id, state, fallout_lines, fallout_skus)
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS s(order_id uuid, contract_id uuid, state text, fallout_lines int, fallout_skus text[])
    ON CONFLICT (order_id) DO UPDATE SET (contract_id, state, fallout_lines, fallout_skus)
        = (excluded.contract_id, excluded.state, excluded.fallout_lines, excluded.fallout_skus)
    WHERE (o.contract_id, o.state, o.fallout_lines, o.fallout_skus)
        IS DISTINCT FROM (excluded.contract_id, excluded.state, excluded.fallout_lines, excluded.fallout_skus)
""")


class KeptBackOrders:
    """Orders' rows saved in this transaction and not yet written (`_write_orders`), by order id."""

    _kept_orders: dict[UUID, dict]

    async def save_order(self, order: Order) -> None:
        self._kept_orders[order.order_id] = order_row(order)

    async def flush_orders(self) -> None:
        if self._kept_orders:
            kept, self._kept_orders = [self._kept_orders[o] for o in sorted(self._kept_orders)], {}  # as indexes.py
            await self._write_orders(kept)


class SqlOrderIndexes(KeptBackOrders):
    async def save_catalogue_entry(self, entry: CatalogueEntry) -> None:
        await self._upsert(catalogue_index, "sku", catalogue_row(entry))

    async def _write_orders(self, rows: list[dict]) -> None:
        await self._conn.execute(_UPSERT_ORDERS, {"rows": json.dumps(rows, default=str)})

    async def _upsert(self, table: sa.Table, key: str, row: dict) -> None:
        statement = insert(table).values(**row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[table.c[key]], set_={k: v for k, v in row.items() if k != key}))

    async def catalogue(self, *, retired: bool | None, after: str | None, limit: int) -> list:
        t = catalogue_index.c
        query = sa.select(catalogue_index).order_by(t.sku).limit(limit)
        if retired is not None:
            query = query.where(t.retired == retired)
        if after is not None:
            query = query.where(t.sku > after)
        return list(await self._conn.execute(query))

    async def orders(self, *, fallout: bool | None, after: UUID | None, limit: int) -> list:
        await self.flush_orders()
        t = order_index.c
        query = sa.select(order_index).order_by(t.order_id).limit(limit)
        if fallout is not None:
            query = query.where(t.fallout_lines > 0 if fallout else t.fallout_lines == 0)
        if after is not None:
            query = query.where(t.order_id > after)
        return list(await self._conn.execute(query))

    async def orders_with_fallout_on(self, sku: str) -> list[UUID]:
        await self.flush_orders()
        t = order_index.c
        query = sa.select(t.order_id).where(sa.literal(sku) == sa.any_(t.fallout_skus)).order_by(t.order_id)
        return list((await self._conn.execute(query)).scalars())


class MemoryOrderIndexes(KeptBackOrders):
    async def save_catalogue_entry(self, entry: CatalogueEntry) -> None:
        self._uow.table("catalogue_index")[entry.sku] = SimpleNamespace(**catalogue_row(entry))

    async def _write_orders(self, rows: list[dict]) -> None:
        for row in rows:
            self._uow.table("order_index")[row["order_id"]] = SimpleNamespace(**row)

    async def catalogue(self, *, retired: bool | None, after: str | None, limit: int) -> list:
        rows = sorted(self._uow.table("catalogue_index").values(), key=lambda r: r.sku)
        return [r for r in rows if retired in (None, r.retired) and (after is None or r.sku > after)][:limit]

    async def orders(self, *, fallout: bool | None, after: UUID | None, limit: int) -> list:
        await self.flush_orders()
        rows = sorted(self._uow.table("order_index").values(), key=lambda r: r.order_id)
        return [r for r in rows if (fallout is None or (r.fallout_lines > 0) == fallout)
                and (after is None or r.order_id > after)][:limit]

    async def orders_with_fallout_on(self, sku: str) -> list[UUID]:
        await self.flush_orders()
        return sorted(r.order_id for r in self._uow.table("order_index").values() if sku in r.fallout_skus)
