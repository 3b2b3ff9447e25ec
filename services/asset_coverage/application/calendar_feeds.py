"""Calendar feeds of operations (RFC 5545): per site and per owner, the change windows and the
renewal deadlines of the contracts, subscribed by URL with a revocable token
(shared/backbone/calendar_feeds.py). A feed token is a credential, not domain history: its row is
written in the unit of work's transaction, and no event is recorded.

Renewal deadlines: for each contract not canceled, its end date with alarms at the configured
offsets before it (`renewal_task_offsets_days`, default 90, 60, 30, 0, the same days as the
renewal tasks); a site's feed has the contracts that cover an asset at the site, an owner's the
contracts the owner is an owner of. Change windows: a site's feed has the windows on the site or
on an asset at the site; an owner's the windows the owner runs. Canceled windows stay in the feed
as CANCELLED (same UID), so subscribed calendars remove them."""

import datetime as dt
from typing import Literal
from uuid import UUID

from shared.backbone import calendar_feeds
from shared.backbone.calendar_feeds import Deadline, Feed, TimedEntry
from shared.backbone.errors import NotFound
from shared.backbone.unit_of_work import UnitOfWork

ScopeKind = Literal["site", "owner"]
FEED = "calendar_feed"
UID_DOMAIN = "asset-coverage.clm-platform"


def _index(uow: UnitOfWork):
    return uow.views.calendar


async def create_feed(uow: UnitOfWork, kind: ScopeKind, value: str, owner: str, now: dt.datetime) -> tuple[Feed, str]:
    async with uow:
        index = _index(uow)
        feed, token = await calendar_feeds.create_feed(index.conn, index.feeds, scope_kind=kind, scope_value=value,
                                                       owner=owner, now=now)
        await uow.commit()
        return feed, token


async def feeds_of(uow: UnitOfWork, owner: str, after: UUID | None, limit: int) -> list[Feed]:
    async with uow:
        index = _index(uow)
        return await calendar_feeds.feeds_of(index.conn, index.feeds, owner, after=after, limit=limit)


async def revoke_feed(uow: UnitOfWork, feed_id: UUID, caller: str, may_revoke_any: bool, now: dt.datetime) -> Feed:
    """Another user's feed is not found (unless the caller may revoke any): its id tells nothing."""
    async with uow:
        index = _index(uow)
        feed = await calendar_feeds.feed_by_id(index.conn, index.feeds, feed_id)
        if feed is None or (feed.owner != caller and not may_revoke_any):
            raise NotFound(FEED, feed_id)
        await calendar_feeds.revoke(index.conn, index.feeds, feed_id, now)
        revoked = await calendar_feeds.feed_by_id(index.conn, index.feeds, feed_id)
        await uow.commit()
        return revoked


async def render_feed(uow: UnitOfWork, token: str, offsets_days: tuple[int, ...], now: dt.datetime) -> bytes:
    """The ICS document the token opens; NotFound alike for an unknown and a revoked token."""
    async with uow:
        index = _index(uow)
        feed = await calendar_feeds.feed_of_token(index.conn, index.feeds, token)
        if feed is None:
            raise NotFound(FEED, "token")
        windows = uow.views.change_windows
        if feed.scope_kind == "site":
            at_site = await index.assets_at(feed.scope_value)
            window_rows = await windows.windows(site=feed.scope_value, assets_at_site=at_site, asset_id=None,
                                                starting_before=None, ending_after=None, overlapping=None,
                                                after=None, limit=None)
            contracts = await index.contracts_at_site(feed.scope_value)
            name = f"Site {feed.scope_value}: change windows and renewal deadlines"
        else:
            window_rows = await windows.windows(owner=feed.scope_value, site=None, asset_id=None, starting_before=None,
                                                ending_after=None, overlapping=None, after=None, limit=None)
            contracts = await index.contracts_of_owner(feed.scope_value)
            name = f"{feed.scope_value}: change windows and renewal deadlines"
        entries = [window_entry(w, now) for w in window_rows] + [renewal_deadline(c, offsets_days) for c in contracts]
        return calendar_feeds.render(name, entries)


def window_entry(row, now: dt.datetime) -> TimedEntry:
    on = ", ".join(row.asset_ids)
    description = "\n".join(line for line in (
        f"Assets: {on}" if on else None, f"Vendor: {row.vendor}" if row.vendor else None,
        f"Contract: {row.contract_id}" if row.contract_id else None, f"Owner: {row.owner}" if row.owner else None,
    ) if line)
    return TimedEntry(uid=f"change-window-{row.window_id}@{UID_DOMAIN}", summary=row.title, starts_at=row.starts_at,
                      ends_at=row.ends_at, stamp=now, description=description or None, location=row.site,
                      categories=("change window",), canceled=row.canceled)


def renewal_deadline(row, offsets_days: tuple[int, ...]) -> Deadline:
    label = row.number or row.name or str(row.contract_id)
    assets = ", ".join(a for a in (row.asset_ids or []) if a)
    description = "\n".join(line for line in (
        f"Contract {label}" + (f": {row.name}" if row.name and row.name != label else ""),
        f"Vendor: {row.vendor}" if row.vendor else None, f"Ends: {row.end_date.isoformat()}",
        f"Assets: {assets}" if assets else None, f"Owners: {', '.join(row.owners)}" if row.owners else None,
    ) if line)
    return Deadline(uid=f"renewal-{row.contract_id}-{row.end_date:%Y%m%d}@{UID_DOMAIN}",
                    summary=f"Renewal deadline: {label}", due=row.end_date, stamp=row.changed_at,
                    description=description, alarm_days_before=tuple(sorted(set(offsets_days), reverse=True)))
