"""Order sync's query tables, rewritten from aggregate state in the same transaction as the events
(so they can always be rebuilt by replaying the streams):

- `coverage`: which contracts cover which sold product / install base item (for suspend/resume);
- `owned_products`: each product's account and whether it is suspended;
- `entitlement_index`: what each entitlement grants, to whom, when (for the entitlement check);
- `quote_index`: each quote's state, account and opportunity (for the quote list);
- `catalogue_index` and `order_index` (order_indexes.py).

`SqlIndexes` is them in a unit of work's transaction (`uow.views`); memory_indexes.py is its
in-memory twin for unit tests.

A contract's `coverage` and `entitlement_index` rows are kept back when it is saved (`KeptBack`:
its rows as they are then, the last save of a contract replacing an earlier one) and written by
`flush()`, which the unit of work awaits at commit: one statement per table for all the contracts
of the transaction, its text the same for any number, so a consumed batch of expiring contracts
costs two statements instead of four per contract. Each rewrite deletes the contract's rows it no
longer has and upserts the others, skipping rows that did not change. A read of those tables
flushes first, so the transaction always reads what it saved. Orders' rows are kept back the
same way (order_indexes.py).
"""

import datetime as dt
import json
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.unit_of_work import UnitOfWork
from services.order_sync.adapters.order_indexes import SqlOrderIndexes
from services.order_sync.domain.install_base import OwnedProduct
from services.order_sync.domain.quote import Quote, QuoteState
from services.order_sync.domain.service_contract import ServiceContract

metadata = sa.MetaData()


coverage = sa.Table(
    "coverage", metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, primary_key=True),
)

owned_products = sa.Table(
    "owned_products", metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("suspended", sa.Boolean, nullable=False),
)

entitlement_index = sa.Table(
    "entitlement_index", metadata,
    sa.Column("entitlement_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("contract_number", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("line_id", sa.Uuid),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("support_level", sa.Text),
    sa.Column("sla", sa.Text),
    sa.Column("features", ARRAY(sa.Text), nullable=False),
    sa.Column("usage_limit", sa.Integer),
    sa.Column("usage_unit", sa.Text),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("covers", ARRAY(sa.Uuid), nullable=False),
    sa.Index("entitlement_index_contract", "contract_id"),
    sa.Index("entitlement_index_account", "account", "name"),
    sa.Index("entitlement_index_covers", "covers", postgresql_using="gin"),
)

quote_index = sa.Table(
    "quote_index", metadata,
    sa.Column("quote_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("account_name", sa.Text, nullable=False),
    sa.Column("opportunity_id", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("deal_size", sa.Numeric, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("quote_index_account", "account_id", "quote_id"),
    sa.Index("quote_index_opportunity", "opportunity_id", "quote_id"),
    sa.Index("quote_index_state", "state", "quote_id"),
)


def quote_row(quote: Quote) -> dict:
    t = quote.terms
    return {
        "quote_id": quote.quote_id, "number": t.number, "account_id": t.account.account_id,
        "account_name": t.account.name, "opportunity_id": t.opportunity_id, "currency": t.currency,
        "deal_size": t.deal.deal_size, "valid_until": t.valid_until, "time_zone": t.time_zone,
        "state": str(quote.state), "version": quote.version,
    }


def entitlement_rows(contract: ServiceContract) -> list[dict]:
    """The contract's rows of entitlement_index."""
    return [
        {
            "entitlement_id": e.entitlement_id, "contract_id": contract.contract_id, "contract_number": contract.number,
            "account": contract.account, "time_zone": contract.time_zone, "line_id": e.line_id, "name": e.name,
            "support_level": e.support_level, "sla": e.sla, "features": list(e.features), "usage_limit": e.usage_limit,
            "usage_unit": e.usage_unit, "start_date": e.start_date, "end_date": e.end_date, "state": str(e.state),
            "covers": sorted(contract.covered_by(e)),
        }
        for e in contract.entitlements.values()
    ]


@dataclass(frozen=True)
class ContractRows:
    """A contract's rows of coverage (the products it covers) and of entitlement_index."""
    contract_id: UUID
    covered: list[UUID]
    entitlements: list[dict]


class KeptBack:
    """Contracts' index rows saved in this transaction and not yet written (`_write_contracts`)."""

    _kept: dict[UUID, ContractRows]

    async def save_contract(self, contract: ServiceContract) -> None:
        self._kept[contract.contract_id] = ContractRows(
            contract.contract_id, sorted(contract.covered_products()), entitlement_rows(contract))

    async def flush(self) -> None:
        if self._kept:
            # in contract id order, so that two transactions rewriting the same contracts wait for
            # each other instead of deadlocking
            kept, self._kept = [self._kept[c] for c in sorted(self._kept)], {}
            await self._write_contracts(kept)
        await self.flush_orders()

    async def _write_contracts(self, kept: list[ContractRows]) -> None:
        raise NotImplementedError


_REWRITE_COVERAGE = sa.text("""
    WITH saved AS (
        SELECT * FROM unnest(CAST(:product_id AS uuid[]), CAST(:contract_id AS uuid[])) AS s(product_id, contract_id)
    ), dropped AS (
        DELETE FROM coverage c WHERE c.contract_id = ANY(CAST(:contracts AS uuid[]))
        AND NOT EXISTS (SELECT FROM saved s WHERE (s.product_id, s.contract_id) = (c.product_id, c.contract_id))
    )
    INSERT INTO coverage (product_id, contract_id) SELECT product_id, contract_id FROM saved ON CONFLICT DO NOTHING
""")

_ENTITLEMENT_COLUMNS = [c.name for c in entitlement_index.columns]
_ENTITLEMENT_TYPES = ", ".join(f"{c.name} {c.type.compile(dialect=postgresql.dialect())}" for c in entitlement_index.columns)
_CHANGEABLE = [name for name in _ENTITLEMENT_COLUMNS if name != "entitlement_id"]
_REWRITE_ENTITLEMENTS = sa.text(f"""
    WITH saved AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS s({_ENTITLEMENT_TYPES})
    ), dropped AS (
        DELETE FROM entitlement_index e WHERE e.contract_id = ANY(CAST(:contracts AS uuid[]))
        AND NOT EXISTS (SELECT FROM saved s WHERE s.entitlement_id = e.entitlement_id)
    )
    INSERT INTO entitlement_index AS e ({", ".join(_ENTITLEMENT_COLUMNS)})
    SELECT {", ".join(_ENTITLEMENT_COLUMNS)} FROM saved
    ON CONFLICT (entitlement_id) DO UPDATE SET ({", ".join(_CHANGEABLE)}) = ({", ".join("excluded." + n for n in _CHANGEABLE)})
    WHERE ({", ".join("e." + n for n in _CHANGEABLE)}) IS DISTINCT FROM ({", ".join("excluded." + n for n in _CHANGEABLE)})
""")


class SqlIndexes(KeptBack, SqlOrderIndexes):
    def __init__(self, uow: UnitOfWork):
        self._conn: AsyncConnection = uow.conn
        self._kept, self._kept_orders = {}, {}

    async def _write_contracts(self, kept: list[ContractRows]) -> None:
        contracts = [k.contract_id for k in kept]
        covered = [(p, k.contract_id) for k in kept for p in k.covered]
        await self._conn.execute(_REWRITE_COVERAGE, {
            "contracts": contracts, "product_id": [p for p, _ in covered], "contract_id": [c for _, c in covered]})
        rows = [row for k in kept for row in k.entitlements]
        await self._conn.execute(_REWRITE_ENTITLEMENTS, {"contracts": contracts, "rows": json.dumps(rows, default=str)})

    async def save_product(self, product: OwnedProduct) -> None:
        statement = insert(owned_products).values(
            product_id=product.product_id, kind=product.kind, account=product.account, suspended=product.suspended)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[owned_products.c.product_id], set_={"suspended": statement.excluded.suspended}))

    async def contracts_covering(self, product_id: UUID) -> list[UUID]:
        await self.flush()
        query = sa.select(coverage.c.contract_id).where(coverage.c.product_id == product_id).order_by(coverage.c.contract_id)
        return list((await self._conn.execute(query)).scalars())

    async def suspended_among(self, product_ids: set[UUID]) -> set[UUID]:
        if not product_ids:
            return set()
        query = sa.select(owned_products.c.product_id).where(
            owned_products.c.product_id.in_(list(product_ids)), owned_products.c.suspended)
        return set((await self._conn.execute(query)).scalars())

    async def entitlements_for(
        self, *, name: str, on: dt.date, account: str | None, covering: UUID | None,
    ) -> list:
        """Entitlements granting `name` (as their name or one of their features) whose dates hold `on`."""
        await self.flush()
        t = entitlement_index
        query = sa.select(t).where(
            sa.or_(t.c.name == name, sa.literal(name) == sa.any_(t.c.features)),
            t.c.start_date <= on, t.c.end_date >= on,
        )
        if account is not None:
            query = query.where(t.c.account == account)
        if covering is not None:
            query = query.where(sa.literal(covering, sa.Uuid) == sa.any_(t.c.covers))
        return list(await self._conn.execute(query.order_by(t.c.contract_number, t.c.entitlement_id)))

    async def save_quote(self, quote: Quote) -> None:
        row = quote_row(quote)
        statement = insert(quote_index).values(**row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[quote_index.c.quote_id], set_={k: v for k, v in row.items() if k != "quote_id"}))

    async def quotes(
        self, *, state: QuoteState | None, account_id: str | None, opportunity_id: str | None, after: UUID | None,
        limit: int,
    ) -> list:
        t = quote_index.c
        query = sa.select(quote_index).order_by(t.quote_id).limit(limit)
        for column, value in ((t.state, state), (t.account_id, account_id), (t.opportunity_id, opportunity_id)):
            if value is not None:
                query = query.where(column == str(value))
        if after is not None:
            query = query.where(t.quote_id > after)
        return list(await self._conn.execute(query))
