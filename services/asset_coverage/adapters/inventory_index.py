"""The inventory's query tables, rewritten from aggregate state in the same transaction as the
events (so they can always be rebuilt by replaying the streams):

- `asset_index`: each asset's kind, site, criticality, owner, name, model and whether it is
  covered today (for the asset list and "all robots at Plant 4");
- `operational_contract_index`: each operational contract's origin, state, parties, model, dates
  and owners (for the contract list).

`SqlInventoryIndex` is them in a unit of work's transaction (`uow.views.inventory`);
memory_views.MemoryInventoryIndex is its in-memory twin for unit tests.
"""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract

metadata = sa.MetaData()

asset_index = sa.Table(
    "asset_index", metadata,
    sa.Column("asset_id", sa.Text(collation="C"), primary_key=True),  # pages in code point order, as ids are compared
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("site", sa.Text),
    sa.Column("criticality", sa.Text, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("model", sa.Text),
    sa.Column("covered", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("asset_index_site_kind", "site", "kind", "asset_id"),
    sa.Index("asset_index_criticality", "criticality", "asset_id"),
    sa.Index("asset_index_owner", "owner", "asset_id"),
)

operational_contract_index = sa.Table(
    "operational_contract_index", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("number", sa.Text),
    sa.Column("vendor", sa.Text),
    sa.Column("vendor_contract_number", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("customer", sa.Text),
    sa.Column("contract_model", sa.Text),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("owners", ARRAY(sa.Text), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("operational_contract_index_state", "state", "contract_id"),
    sa.Index("operational_contract_index_end", "end_date"),
)
sa.Index("operational_contract_index_vendor", sa.func.lower(operational_contract_index.c.vendor),
         operational_contract_index.c.contract_id)


def asset_row(asset: Asset) -> dict:
    d = asset.details
    return {"asset_id": asset.id, "kind": d.kind, "site": d.site, "criticality": d.criticality, "owner": d.owner,
            "name": d.name, "model": d.model, "covered": asset.covered, "version": asset.version}


def contract_row(contract: OperationalContract) -> dict:
    terms = contract.vendor_terms
    return {
        "contract_id": UUID(contract.id), "origin": contract.origin, "state": str(contract.state),
        "number": contract.number, "vendor": terms.vendor if terms else None,
        "vendor_contract_number": terms.vendor_contract_number if terms else None, "name": contract.name,
        "customer": terms.customer if terms else None, "contract_model": contract.contract_model,
        "start_date": contract.start_date, "end_date": contract.end_date, "time_zone": contract.time_zone,
        "owners": list(contract.operational.owners), "version": contract.version,
    }


def _upsert_all(table: sa.Table, key: str):
    """One statement for any number of rows (executemany): compiled once, no parameter limit."""
    statement = insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c[key]],
                                           set_={c.name: statement.excluded[c.name] for c in table.c if c.name != key})


_UPSERT_ASSET = _upsert_all(asset_index, "asset_id")
_UPSERT_CONTRACT = _upsert_all(operational_contract_index, "contract_id")


class SqlInventoryIndex:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    async def save_assets(self, assets: list[Asset]) -> None:
        """Several at once (a transaction's, an import batch's): one statement, its rows sent together."""
        if assets:
            await self._conn.execute(_UPSERT_ASSET, [asset_row(asset) for asset in assets])

    async def save_contracts(self, contracts: list[OperationalContract]) -> None:
        if contracts:
            await self._conn.execute(_UPSERT_CONTRACT, [contract_row(contract) for contract in contracts])

    async def assets(self, *, kind: str | None = None, site: str | None = None, criticality: str | None = None,
                     owner: str | None = None, after: str | None = None, limit: int = 100) -> list:
        t = asset_index.c
        query = sa.select(asset_index).order_by(t.asset_id).limit(limit)
        for column, value in ((t.kind, kind), (t.site, site), (t.criticality, criticality), (t.owner, owner)):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(t.asset_id > after)
        return list(await self._conn.execute(query))

    async def contracts(self, *, state: str | None = None, origin: str | None = None, vendor: str | None = None,
                        contract_model: str | None = None, ends_before: dt.date | None = None,
                        after: UUID | None = None, limit: int = 100) -> list:
        t = operational_contract_index.c
        query = sa.select(operational_contract_index).order_by(t.contract_id).limit(limit)
        for column, value in ((t.state, state), (t.origin, origin), (t.contract_model, contract_model)):
            if value is not None:
                query = query.where(column == str(value))
        if vendor is not None:
            query = query.where(sa.func.lower(t.vendor) == sa.func.lower(vendor))
        if ends_before is not None:
            query = query.where(t.end_date < ends_before)
        if after is not None:
            query = query.where(t.contract_id > after)
        return list(await self._conn.execute(query))
