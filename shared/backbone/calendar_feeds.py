"""Calendar feeds (RFC 5545) subscribed by URL, written once for every service that renders dates
(asset_coverage's change windows and renewal deadlines now; clm's per-user and per-contract feeds
later).

Calendar clients cannot send a bearer header, so the URL carries the credential: a random token
(256 bits, `secrets`) shown once when the feed is created. Only its SHA-256 is stored, so the
table's rows cannot be replayed as URLs; a feed is found by the hash of the token presented, and a
revoked feed answers as an unknown one. A feed has a scope (`kind` and `value`: a site, an owner,
a contract...) that the owning service interprets, and the owner who created it.

`feed_table(metadata)` defines the table in a service's own schema (each service owns its rows);
the functions below take the connection of the caller's unit of work. The ICS building takes plain
records (`TimedEntry`, `Deadline`, `DayEntry`, `Task`) and renders VEVENTs and VTODOs with stable UIDs, so a client
updates the entry it already has rather than adding a copy.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import icalendar
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

TOKEN_BYTES = 32
ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_table(metadata: sa.MetaData, name: str = "calendar_feeds") -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("feed_id", sa.Uuid, primary_key=True),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("scope_kind", sa.Text, nullable=False),
        sa.Column("scope_value", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Index(f"{name}_owner", "owner", "feed_id"),
    )


@dataclass(frozen=True)
class Feed:
    feed_id: UUID
    scope_kind: str
    scope_value: str
    owner: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _feed(row) -> Feed:
    return Feed(row.feed_id, row.scope_kind, row.scope_value, row.owner, row.created_at, row.revoked_at)


async def create_feed(conn: AsyncConnection, table: sa.Table, *, scope_kind: str, scope_value: str, owner: str,
                      now: dt.datetime) -> tuple[Feed, str]:
    """A new feed and its token: the only time the token exists outside the subscriber's calendar."""
    token = new_token()
    feed = Feed(uuid4(), scope_kind, scope_value, owner, now, None)
    await conn.execute(table.insert().values(
        feed_id=feed.feed_id, token_sha256=token_hash(token), scope_kind=scope_kind, scope_value=scope_value,
        owner=owner, created_at=now))
    return feed, token


async def feed_of_token(conn: AsyncConnection, table: sa.Table, token: str) -> Feed | None:
    """The live feed the token opens; None for an unknown or a revoked token alike."""
    row = (await conn.execute(sa.select(table).where(
        table.c.token_sha256 == token_hash(token), table.c.revoked_at.is_(None)))).first()
    return _feed(row) if row else None


async def feeds_of(conn: AsyncConnection, table: sa.Table, owner: str, *, after: UUID | None, limit: int) -> list[Feed]:
    query = sa.select(table).where(table.c.owner == owner).order_by(table.c.feed_id).limit(limit)
    if after is not None:
        query = query.where(table.c.feed_id > after)
    return [_feed(row) for row in await conn.execute(query)]


async def feed_by_id(conn: AsyncConnection, table: sa.Table, feed_id: UUID) -> Feed | None:
    row = (await conn.execute(sa.select(table).where(table.c.feed_id == feed_id))).first()
    return _feed(row) if row else None


async def revoke(conn: AsyncConnection, table: sa.Table, feed_id: UUID, now: dt.datetime) -> None:
    """From now on the token opens nothing (revoking twice keeps the first time)."""
    await conn.execute(table.update().where(table.c.feed_id == feed_id, table.c.revoked_at.is_(None))
                       .values(revoked_at=now))


@dataclass(frozen=True)
class TimedEntry:
    """A VEVENT from one instant to another (a change window)."""

    uid: str
    summary: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    stamp: dt.datetime
    description: str | None = None
    location: str | None = None
    categories: tuple[str, ...] = ()
    canceled: bool = False


@dataclass(frozen=True)
class Deadline:
    """An all-day date to act by (a renewal deadline): a VTODO due on `due` with an alarm at each of
    `alarm_days_before`, and an all-day VEVENT on each of those days so calendars without tasks show them."""

    uid: str
    summary: str
    due: dt.date
    stamp: dt.datetime
    description: str | None = None
    alarm_days_before: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DayEntry:
    """An all-day VEVENT on `day` (a cancel-by or an end date) with a VALARM at each of
    `alarm_days_before` (relative to the day's start)."""

    uid: str
    summary: str
    day: dt.date
    stamp: dt.datetime
    description: str | None = None
    categories: tuple[str, ...] = ()
    alarm_days_before: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Task:
    """A VTODO due on the date `due` (an obligation's occurrence); COMPLETED at `completed_at` once done."""

    uid: str
    summary: str
    due: dt.date
    stamp: dt.datetime
    description: str | None = None
    categories: tuple[str, ...] = ()
    completed_at: dt.datetime | None = None


def _utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC)


def _alarm(summary: str, days_before: int, *, before_due: bool) -> icalendar.Alarm:
    """An alarm `days_before` the due date of a VTODO (RELATED=END is its DUE), or at an event's start."""
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -dt.timedelta(days=days_before), parameters={"RELATED": "END"} if before_due else {})
    return alarm


def _timed_event(entry: TimedEntry) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", _utc(entry.stamp))
    event.add("dtstart", _utc(entry.starts_at))
    event.add("dtend", _utc(entry.ends_at))
    event.add("summary", entry.summary)
    event.add("status", "CANCELLED" if entry.canceled else "CONFIRMED")
    if entry.description:
        event.add("description", entry.description)
    if entry.location:
        event.add("location", entry.location)
    if entry.categories:
        event.add("categories", list(entry.categories))
    return event


def _deadline_components(deadline: Deadline) -> list[icalendar.cal.Component]:
    todo = icalendar.Todo()
    todo.add("uid", deadline.uid)
    todo.add("dtstamp", _utc(deadline.stamp))
    todo.add("summary", deadline.summary)
    todo.add("due", deadline.due)  # a date: DUE;VALUE=DATE
    if deadline.description:
        todo.add("description", deadline.description)
    for days in deadline.alarm_days_before:
        todo.add_component(_alarm(deadline.summary, days, before_due=True))
    components: list[icalendar.cal.Component] = [todo]
    for days in sorted(set(deadline.alarm_days_before) | {0}, reverse=True):
        day = deadline.due - dt.timedelta(days=days)
        event = icalendar.Event()
        local, _, domain = deadline.uid.partition("@")
        event.add("uid", f"{local}-{days}d@{domain or 'clm-platform'}")
        event.add("dtstamp", _utc(deadline.stamp))
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", deadline.summary if days == 0 else f"{deadline.summary} ({days} days before)")
        event.add("transp", "TRANSPARENT")
        if deadline.description:
            event.add("description", deadline.description)
        event.add_component(_alarm(deadline.summary, 0, before_due=False))
        components.append(event)
    return components


def _day_event(entry: DayEntry) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", _utc(entry.stamp))
    event.add("dtstart", entry.day)  # a date: DTSTART;VALUE=DATE
    event.add("dtend", entry.day + dt.timedelta(days=1))
    event.add("summary", entry.summary)
    event.add("transp", "TRANSPARENT")
    if entry.description:
        event.add("description", entry.description)
    if entry.categories:
        event.add("categories", list(entry.categories))
    for days in sorted(set(entry.alarm_days_before), reverse=True):
        event.add_component(_alarm(entry.summary, days, before_due=False))
    return event


def _task(entry: Task) -> icalendar.Todo:
    todo = icalendar.Todo()
    todo.add("uid", entry.uid)
    todo.add("dtstamp", _utc(entry.stamp))
    todo.add("summary", entry.summary)
    todo.add("due", entry.due)
    if entry.description:
        todo.add("description", entry.description)
    if entry.categories:
        todo.add("categories", list(entry.categories))
    if entry.completed_at is not None:
        todo.add("status", "COMPLETED")
        todo.add("completed", _utc(entry.completed_at))
    else:
        todo.add("status", "NEEDS-ACTION")
    return todo


def render(name: str, entries: list[TimedEntry | Deadline | DayEntry | Task], *, product: str = "-//clm-platform//calendar feeds//EN") -> bytes:
    """The feed's ICS document (CRLF lines, folded at 75 octets by icalendar)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", product)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        if isinstance(entry, TimedEntry):
            calendar.add_component(_timed_event(entry))
        elif isinstance(entry, DayEntry):
            calendar.add_component(_day_event(entry))
        elif isinstance(entry, Task):
            calendar.add_component(_task(entry))
        else:
            for component in _deadline_components(entry):
                calendar.add_component(component)
    return calendar.to_ical()
