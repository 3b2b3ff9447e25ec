"""The change window index: one row per window (its times, assets, site, whether canceled), written
from the aggregate in the same transaction as its events (application/change_windows.py), read to
find the windows a plan overlaps and to list windows with filters.

Two plans on the same asset committed at the same time would each miss the other (neither sees the
other's uncommitted row), so a plan first takes a transaction-scoped advisory lock per asset id and
site (`lock_scope`), in sorted order (no deadlock between two plans sharing several): the later
waits for the earlier's commit and then finds its row."""

import datetime as dt
import hashlib
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.change_windows import ChangeWindowPlan
from services.asset_coverage.domain.change_window import ChangeWindow

metadata = sa.MetaData()

change_window_index = sa.Table(
    "change_window_index", metadata,
    sa.Column("window_id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("asset_ids", ARRAY(sa.Text), nullable=False),
    sa.Column("site", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("contract_id", sa.Uuid),
    sa.Column("vendor", sa.Text),
    sa.Column("canceled", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("change_window_index_assets", "asset_ids", postgresql_using="gin"),
    sa.Index("change_window_index_site", "site", "starts_at"),
    sa.Index("change_window_index_starts", "starts_at"),
)


def window_row(window: ChangeWindow) -> dict:
    plan = window.plan
    return {
        "window_id": window.window_id, "title": plan.title, "starts_at": plan.starts_at, "ends_at": plan.ends_at,
        "asset_ids": list(plan.asset_ids), "site": plan.site, "owner": plan.owner, "contract_id": plan.contract_id,
        "vendor": plan.vendor, "canceled": window.canceled, "version": window.version,
    }


def lock_keys(asset_ids: list[str], *sites: str | None) -> list[int]:
    """64-bit advisory lock keys of what a plan is on, sorted (a stable order: no deadlocks)."""
    names = [f"change_window/asset/{a}" for a in asset_ids] + [f"change_window/site/{s}" for s in sites if s]
    return sorted({int.from_bytes(hashlib.sha256(n.encode()).digest()[:8], "big", signed=True) for n in names})


def _shares(table, asset_ids: list[str], site: str | None):
    conditions = []
    if asset_ids:
        conditions.append(table.c.asset_ids.overlap(sa.cast(list(asset_ids), ARRAY(sa.Text))))
    if site is not None:
        conditions.append(table.c.site == site)
    return sa.or_(*conditions)


class SqlChangeWindows:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    async def lock_scope(self, asset_ids: list[str], *sites: str | None) -> None:
        for key in lock_keys(asset_ids, *sites):
            await self._conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    async def save(self, window: ChangeWindow) -> None:
        row = window_row(window)
        statement = insert(change_window_index).values(**row)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[change_window_index.c.window_id],
            set_={k: statement.excluded[k] for k in row if k != "window_id"}))

    async def overlapping(self, plan: ChangeWindowPlan, *, excluding: UUID) -> list[UUID]:
        """The other non-canceled windows whose times intersect the plan's on a common asset or the site."""
        t = change_window_index
        query = sa.select(t.c.window_id).where(
            t.c.window_id != excluding, sa.not_(t.c.canceled), t.c.starts_at < plan.ends_at,
            t.c.ends_at > plan.starts_at, _shares(t, plan.asset_ids, plan.site),
        ).order_by(t.c.window_id)
        return list((await self._conn.execute(query)).scalars())

    async def windows(
        self, *, asset_id: str | None, site: str | None, assets_at_site: list[str] | None = None,
        starting_before: dt.datetime | None, ending_after: dt.datetime | None, overlapping: bool | None,
        owner: str | None = None, include_canceled: bool = True, after: UUID | None, limit: int | None,
    ) -> list:
        """Rows by window id. `site` matches the window's site; `assets_at_site` (asset ids) adds windows on those assets
        at that site (the feed's). `overlapping`: only windows that overlap another (True) or none (False)."""
        t, other = change_window_index, change_window_index.alias("other")
        query = sa.select(t).order_by(t.c.window_id)
        if asset_id is not None:
            query = query.where(sa.literal(asset_id) == sa.any_(t.c.asset_ids))
        if site is not None:
            on_site = t.c.site == site
            if assets_at_site:
                on_site = sa.or_(on_site, t.c.asset_ids.overlap(sa.cast(assets_at_site, ARRAY(sa.Text))))
            query = query.where(on_site)
        if owner is not None:
            query = query.where(t.c.owner == owner)
        if starting_before is not None:
            query = query.where(t.c.starts_at < starting_before)
        if ending_after is not None:
            query = query.where(t.c.ends_at > ending_after)
        if not include_canceled:
            query = query.where(sa.not_(t.c.canceled))
        if overlapping is not None:
            exists = sa.exists().where(
                other.c.window_id != t.c.window_id, sa.not_(other.c.canceled), sa.not_(t.c.canceled),
                other.c.starts_at < t.c.ends_at, other.c.ends_at > t.c.starts_at,
                sa.or_(other.c.asset_ids.overlap(t.c.asset_ids), other.c.site == t.c.site))
            query = query.where(exists if overlapping else sa.not_(exists))
        if after is not None:
            query = query.where(t.c.window_id > after)
        if limit is not None:
            query = query.limit(limit)
        return list(await self._conn.execute(query))
