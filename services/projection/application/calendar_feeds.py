"""Calendar feeds of the renewal calendar (RFC 5545, shared/backbone/calendar_feeds.py): per contract
and per user, subscribed by URL with a revocable token shown once (its SHA-256 stored).

A contract's feed: the current period's cancel-by and end dates (all-day VEVENTs, a VALARM at each
of the terms' reminder offsets) and its obligations' occurrences (VTODOs due on the date, COMPLETED
once done). A user's feed: the same for every contract and obligation whose owners name the user
(the feed's value) or `role:<r>` for a role the creator held when creating it for themself.
Occurrences are expanded when the feed is read, from OCCURRENCES_BEFORE_DAYS before today to
OCCURRENCES_AHEAD_DAYS after it, so a feed read years later still shows the next ones. A feed
token is a credential, not history: no event is recorded."""

import datetime as dt
from typing import Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.backbone import calendar_feeds
from shared.backbone.calendar_feeds import DayEntry, Feed, Task
from shared.backbone.errors import NotFound
from shared.events.obligations import Recurrence
from services.projection.adapters import renewal_calendar as calendar

ScopeKind = Literal["user", "contract"]
FEED = "calendar_feed"
UID_DOMAIN = "projection.clm-platform"
OCCURRENCES_BEFORE_DAYS = 31
OCCURRENCES_AHEAD_DAYS = 400
MAX_OCCURRENCES = 200  # of one obligation in one feed


async def create_feed(engine: AsyncEngine, kind: ScopeKind, value: str, owner: str, owner_roles: list[str],
                      now: dt.datetime) -> tuple[Feed, str]:
    async with engine.begin() as conn:
        feed, token = await calendar_feeds.create_feed(conn, calendar.feeds, scope_kind=kind, scope_value=value,
                                                       owner=owner, now=now)
        await conn.execute(calendar.feeds.update().where(calendar.feeds.c.feed_id == feed.feed_id)
                           .values(owner_roles=sorted(owner_roles)))
        return feed, token


async def feeds_of(engine: AsyncEngine, owner: str, after: UUID | None, limit: int) -> list[Feed]:
    async with engine.connect() as conn:
        return await calendar_feeds.feeds_of(conn, calendar.feeds, owner, after=after, limit=limit)


async def revoke_feed(engine: AsyncEngine, feed_id: UUID, caller: str, may_revoke_any: bool, now: dt.datetime) -> Feed:
    """Another user's feed is not found (unless the caller may revoke any): its id tells nothing."""
    async with engine.begin() as conn:
        feed = await calendar_feeds.feed_by_id(conn, calendar.feeds, feed_id)
        if feed is None or (feed.owner != caller and not may_revoke_any):
            raise NotFound(FEED, feed_id)
        await calendar_feeds.revoke(conn, calendar.feeds, feed_id, now)
        return await calendar_feeds.feed_by_id(conn, calendar.feeds, feed_id)


async def render_feed(engine: AsyncEngine, token: str, now: dt.datetime) -> bytes:
    """The ICS document the token opens; NotFound alike for an unknown and a revoked token."""
    async with engine.connect() as conn:
        feed = await calendar_feeds.feed_of_token(conn, calendar.feeds, token)
        if feed is None:
            raise NotFound(FEED, "token")
        today = now.astimezone(dt.UTC).date()
        if feed.scope_kind == "contract":
            contract_id = UUID(feed.scope_value)
            row = await calendar.dates_of_contract(conn, contract_id)
            periods = [row] if row else []
            obligation_rows = await calendar.obligations_of(conn, contract_id=contract_id)
            name = f"Contract {_label(row) if row else contract_id}: renewal dates and obligations"
        else:
            owners = [feed.scope_value, *(f"role:{r}" for r in await _roles_of(conn, feed.feed_id))]
            periods = await calendar.dates_of_owners(conn, owners)
            obligation_rows = await calendar.obligations_of(conn, owners=owners)
            name = f"{feed.scope_value}: renewal dates and obligations"
        entries = [entry for row in periods for entry in period_entries(row)]
        entries += await _occurrence_entries(conn, obligation_rows, today)
        return calendar_feeds.render(name, entries)


async def _roles_of(conn: AsyncConnection, feed_id: UUID) -> list[str]:
    roles = (await conn.execute(sa.select(calendar.feeds.c.owner_roles)
                                .where(calendar.feeds.c.feed_id == feed_id))).scalar_one_or_none()
    return list(roles or [])


def _label(row) -> str:
    return row.number or row.title or str(row.contract_id)


def period_entries(row) -> list[DayEntry]:
    """The current period's cancel-by and end dates; UIDs name the contract, period and anchor, so a
    renewal adds the new period's entries and a calendar keeps the old ones it has."""
    label, offsets = _label(row), tuple(row.reminder_offsets_days or ())
    notice = (f"Termination notice given on {row.termination_given_on.isoformat()}: ends "
              f"{row.termination_end.isoformat()}" if row.termination_given_on else None)
    common = "\n".join(line for line in (
        f"Contract {label}" + (f": {row.title}" if row.title and row.title != label else ""),
        f"Period {row.period_number}: {row.period_start.isoformat()} to {row.period_end.isoformat()}",
        f"Renewal: {row.renewal}", f"Notice deadline: {row.notice_deadline.isoformat()}",
        f"Owners: {', '.join(row.owners)}" if row.owners else None, notice,
    ) if line)
    uid = f"renewal-{row.contract_id}-p{row.period_number}"
    return [
        DayEntry(uid=f"{uid}-cancel-by@{UID_DOMAIN}", summary=f"Cancel-by: {label}", day=row.cancel_by,
                 stamp=row.changed_at, description=common, categories=("cancel-by",), alarm_days_before=offsets),
        DayEntry(uid=f"{uid}-end@{UID_DOMAIN}", summary=f"{'Ends' if notice or row.renewal == 'express' else 'Period ends'}: {label}",
                 day=row.period_end, stamp=row.changed_at, description=common, categories=("end date",),
                 alarm_days_before=offsets),
    ]


def occurrence_dates(row, today: dt.date) -> list[dt.date]:
    """The occurrences a feed shows: a one-off's due date; a recurrence's within the window around today."""
    if row.due_date is not None:
        return [row.due_date]
    recurrence = Recurrence(rrule=row.rrule, start=row.recurrence_start)
    return recurrence.occurrences(after=today - dt.timedelta(days=OCCURRENCES_BEFORE_DAYS),
                                  until=today + dt.timedelta(days=OCCURRENCES_AHEAD_DAYS), limit=MAX_OCCURRENCES)


async def _occurrence_entries(conn: AsyncConnection, rows: list, today: dt.date) -> list[Task]:
    done = await calendar.completions_of(conn, [r.obligation_id for r in rows])
    entries = []
    for row in rows:
        for due in occurrence_dates(row, today):
            completed_at = done.get((row.obligation_id, due))
            if row.canceled_at is not None and completed_at is None:
                continue  # no further occurrences fall due once canceled
            entries.append(occurrence_entry(row, due, completed_at))
    return entries


def occurrence_entry(row, due: dt.date, completed_at: dt.datetime | None) -> Task:
    label = row.number or row.title or str(row.contract_id)
    description = "\n".join(line for line in (
        row.description, f"Contract {label}", f"Kind: {row.kind}",
        f"Clause: {row.source_clause}" if row.source_clause else None, f"Owners: {', '.join(row.owners)}",
    ) if line)
    return Task(uid=f"obligation-{row.obligation_id}-{due:%Y%m%d}@{UID_DOMAIN}",
                summary=f"{row.kind.replace('_', ' ').capitalize()}: {row.description}", due=due,
                stamp=row.recorded_at, description=description, categories=("obligation", row.kind),
                completed_at=completed_at)
