"""Calendar feeds of operations: the feed tokens (shared/backbone/calendar_feeds.py's table, in this
service's schema) and the feed index, what a feed needs of contracts and assets, derived by
application/calendar_index.py from operations' own events (VendorContractRegistered / Revised,
CoverageOpened, OperationalTermsSet, OperationalContractCanceled, AssetLinked / Unlinked,
AssetRegistered / Revised), so the feeds depend on the events, not on the code that writes them:

- `calendar_contracts`: each contract's number, name, vendor, end date and owners, canceled or not;
- `calendar_links`: which assets each contract covers;
- `calendar_assets`: each asset's site and owner."""

import datetime as dt
from types import SimpleNamespace
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone import calendar_feeds

metadata = sa.MetaData()

calendar_feed_tokens = calendar_feeds.feed_table(metadata)

calendar_contracts = sa.Table(
    "calendar_contracts", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("vendor", sa.Text),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("owners", ARRAY(sa.Text), nullable=False),
    sa.Column("canceled", sa.Boolean, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("calendar_contracts_owners", "owners", postgresql_using="gin"),
)

calendar_links = sa.Table(
    "calendar_links", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("asset_id", sa.Text, primary_key=True),
    sa.Index("calendar_links_asset", "asset_id"),
)

calendar_assets = sa.Table(
    "calendar_assets", metadata,
    sa.Column("asset_id", sa.Text, primary_key=True),
    sa.Column("site", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Index("calendar_assets_site", "site"),
)


class SqlCalendarIndex:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn
        self.feeds = calendar_feed_tokens

    @property
    def conn(self) -> AsyncConnection:
        return self._conn

    async def save_contract(self, contract_id: UUID, at: dt.datetime, **values) -> None:
        """The whole contract (registered, opened, revised: `end_date` given) is inserted or updated;
        a change of one thing it carries (owners, canceled) updates the row its own earlier event
        inserted. Not an upsert with those alone: PostgreSQL checks the NOT NULL columns of the row
        it would insert before it sees the conflict."""
        row = {"contract_id": contract_id, "changed_at": at, **values}
        if "end_date" not in values:
            await self._conn.execute(sa.update(calendar_contracts)
                                     .where(calendar_contracts.c.contract_id == contract_id).values(**row))
            return
        statement = insert(calendar_contracts).values(**{"owners": [], "canceled": False, **row})
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[calendar_contracts.c.contract_id],
            set_={k: statement.excluded[k] for k in row if k != "contract_id"}))

    async def link(self, contract_id: UUID, asset_id: str) -> None:
        await self._conn.execute(insert(calendar_links).values(contract_id=contract_id, asset_id=asset_id)
                                 .on_conflict_do_nothing())

    async def unlink(self, contract_id: UUID, asset_id: str) -> None:
        await self._conn.execute(calendar_links.delete().where(
            calendar_links.c.contract_id == contract_id, calendar_links.c.asset_id == asset_id))

    async def save_asset(self, asset_id: str, site: str | None, owner: str | None) -> None:
        statement = insert(calendar_assets).values(asset_id=asset_id, site=site, owner=owner)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[calendar_assets.c.asset_id], set_={"site": site, "owner": owner}))

    async def assets_at(self, site: str) -> list[str]:
        query = sa.select(calendar_assets.c.asset_id).where(calendar_assets.c.site == site).order_by("asset_id")
        return list((await self._conn.execute(query)).scalars())

    async def contracts_at_site(self, site: str) -> list:
        """Contracts not canceled that cover an asset at the site, with the site's assets they cover."""
        c, l, a = calendar_contracts, calendar_links, calendar_assets
        assets = sa.func.array_agg(sa.distinct(l.c.asset_id)).label("asset_ids")
        query = (sa.select(c, assets).join(l, l.c.contract_id == c.c.contract_id).join(a, a.c.asset_id == l.c.asset_id)
                 .where(a.c.site == site, sa.not_(c.c.canceled)).group_by(c.c.contract_id).order_by(c.c.contract_id))
        return list(await self._conn.execute(query))

    async def contracts_of_owner(self, owner: str) -> list:
        c, l = calendar_contracts, calendar_links
        assets = sa.func.array_remove(sa.func.array_agg(sa.distinct(l.c.asset_id)), None).label("asset_ids")
        query = (sa.select(c, assets).outerjoin(l, l.c.contract_id == c.c.contract_id)
                 .where(sa.literal(owner) == sa.any_(c.c.owners), sa.not_(c.c.canceled)).group_by(c.c.contract_id).order_by(c.c.contract_id))
        return list(await self._conn.execute(query))


def as_rows(rows) -> list[SimpleNamespace]:
    return [SimpleNamespace(**row._mapping) for row in rows]
