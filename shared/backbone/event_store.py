"""The event store: one append-only `events` table per service schema.

Layout: `position` (global order), `stream_id` + `version` (unique: optimistic concurrency),
`event_id`, `event_type`, `schema_version`, `payload`, correlation/causation, `recorded_at`
(defined in tables.py).

Gap-free global order. A BIGSERIAL alone lets a reader skip events: transaction A draws
position 10, B draws 11 and commits first; a reader that sees 11 and remembers it never sees 10.
We serialize appends instead: every append takes `LOCK TABLE events IN EXCLUSIVE MODE` (blocks
other appenders, not readers) before drawing positions, and holds it to commit. So positions
become visible in exactly the order they were drawn, and per stream they follow versions.
(xid8 + pg_snapshot_xmin avoids the lock but orders by transaction id, which can put a stream's
version 6 before its version 5 when the second writer's transaction id is older.) The cost is one
appender at a time per service; the unit of work appends last, right before COMMIT, to keep the
locked window short, and `append_many` takes the lock, checks every expected version and inserts
the events of any number of streams in one call of the schema's `append_events` function (one
round trip; shared/backbone/migrations.py says why a function and not one statement), so the
lock is held for that call plus COMMIT, not for four client round trips. `lock_for_append` takes
it earlier for a command that must read under it (`uow.serialize()`); the function's LOCK is
then free. The table doubles as the transactional outbox (see outbox.py).
"""

import datetime as dt
import json
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.errors import ConcurrencyConflict
from shared.backbone.tables import events
from shared.events import event_class
from shared.events.base import Event
from shared.events.envelope import Envelope


@dataclass(frozen=True)
class NewEvent:
    event: Event
    event_id: UUID
    correlation_id: str
    causation_id: str = ""
    actor: str | None = None


@dataclass(frozen=True)
class RecordedEvent:
    position: int
    stream_id: str
    stream_type: str  # the type of aggregate the stream belongs to (Aggregate.stream_type)
    version: int
    event_id: UUID
    event: Event
    correlation_id: str
    causation_id: str
    recorded_at: dt.datetime

    def envelope(self) -> Envelope:
        return Envelope(
            event=self.event,
            stream_version=self.version,
            event_id=self.event_id,
            time=self.recorded_at,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )


def _recorded(row) -> RecordedEvent:
    cls = event_class(row.event_type, row.schema_version)
    return RecordedEvent(
        position=row.position,
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.version,
        event_id=row.event_id,
        event=cls.model_validate(row.payload),
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        recorded_at=row.recorded_at,
    )


async def stream_version(conn: AsyncConnection, stream_id: str) -> int:
    query = sa.select(sa.func.coalesce(sa.func.max(events.c.version), 0)).where(events.c.stream_id == stream_id)
    return (await conn.execute(query)).scalar_one()


async def lock_for_append(conn: AsyncConnection) -> None:
    """Held until the transaction ends; re-taking it in the same transaction is free."""
    await conn.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))


# One statement text whatever the number of streams or rows, so asyncpg prepares it once. One
# index probe per stream: `stream_id = ANY(...) GROUP BY` gets a sequential-scan generic plan
# when the table was small as the connection prepared it, and keeps it while the table grows.
_VERSIONS = sa.text(
    "SELECT s.stream_id, (SELECT max(e.version) FROM events e WHERE e.stream_id = s.stream_id) AS version"
    " FROM unnest(CAST(:stream_ids AS text[])) AS s(stream_id)"
)

# Lock, version checks and INSERT in one round trip: the server-side function of
# shared/backbone/migrations.py (APPEND_EVENTS_V1, created in each service's schema by a revision).
# Positions are drawn in row order there: the ordinality scan yields rows in ORDER BY order (no sort
# node) and nextval is evaluated row by row as they come; a volatile select list is evaluated after
# any sort. tests/integration/test_event_store.py checks it.
_APPEND_EVENTS = sa.text(
    "SELECT append_events(CAST(:expected_streams AS text[]), CAST(:expected_versions AS int[]),"
    " CAST(:stream_id AS text[]), CAST(:stream_type AS text[]), CAST(:version AS int[]), CAST(:event_id AS uuid[]),"
    " CAST(:event_type AS text[]), CAST(:schema_version AS int[]), CAST(:payload AS text[]),"
    " CAST(:correlation_id AS text[]), CAST(:causation_id AS text[]), CAST(:actor AS text[]))"
)
_STREAM_MOVED = "ES409"  # the SQLSTATE append_events raises for a version that moved


async def current_versions(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, int]:
    """The version of each stream given (0 for one with no events), in one query."""
    rows = await conn.execute(_VERSIONS, {"stream_ids": list(stream_ids)})
    return {stream_id: version or 0 for stream_id, version in rows}


async def check_versions(conn: AsyncConnection, expected: dict[str, int]) -> None:
    """Raises ConcurrencyConflict unless every stream is still at the version given.
    Only meaningful under the append lock."""
    actual = await current_versions(conn, list(expected))
    for stream_id, version in expected.items():
        if actual[stream_id] != version:
            raise ConcurrencyConflict(stream_id, version, actual[stream_id])


StreamAppend = tuple[str, str, int, list[NewEvent]]  # stream_id, stream_type, expected_version, events


async def append_many(
    conn: AsyncConnection, appends: list[StreamAppend], unchanged: dict[str, int] | None = None
) -> list[int]:
    """Appends to several streams in one round trip (the `append_events` function: lock, version
    checks, one INSERT), each entry after its expected version and each stream of `unchanged` (read,
    not changed, relied on) still at the version given; or raises ConcurrencyConflict for the first
    that moved (`unchanged` first) and appends nothing: the transaction is then aborted, as the unit
    of work that called it ends there. A stream may come more than once, each entry continuing
    where its previous one ended. Positions follow the entries in the order given; returns them."""
    appends = [a for a in appends if a[3]]
    unchanged = unchanged or {}
    if not appends and not unchanged:
        return []
    expected: dict[str, int] = {}
    continues_at: dict[str, int] = {}
    for stream_id, _, version, new_events in appends:
        if continues_at.get(stream_id, version) != version:
            raise ValueError(f"append_many: stream {stream_id} continues at {continues_at[stream_id]}, not {version}")
        expected.setdefault(stream_id, version)
        continues_at[stream_id] = version + len(new_events)
    checks = [*unchanged.items(), *expected.items()]
    columns: dict[str, list] = {name: [] for name in (
        "stream_id", "stream_type", "version", "event_id", "event_type", "schema_version", "payload",
        "correlation_id", "causation_id", "actor")}
    for stream_id, stream_type, expected_version, new_events in appends:
        for i, e in enumerate(new_events, start=1):
            columns["stream_id"].append(stream_id)
            columns["stream_type"].append(stream_type)
            columns["version"].append(expected_version + i)
            columns["event_id"].append(e.event_id)
            columns["event_type"].append(e.event.event_type)
            columns["schema_version"].append(e.event.schema_version)
            columns["payload"].append(e.event.model_dump_json())
            columns["correlation_id"].append(e.correlation_id)
            columns["causation_id"].append(e.causation_id)
            columns["actor"].append(e.actor)
    params = {"expected_streams": [s for s, _ in checks], "expected_versions": [v for _, v in checks], **columns}
    try:
        positions = (await conn.execute(_APPEND_EVENTS, params)).scalars().all()
    except sa.exc.DBAPIError as error:
        moved = _moved_stream(error)
        if moved is None:
            raise
        raise ConcurrencyConflict(moved["stream_id"], moved["expected_version"], moved["actual_version"]) from None
    # RETURNING has no defined order; the positions were drawn in row order, so sorted is row order.
    return sorted(positions)


def _moved_stream(error: sa.exc.DBAPIError) -> dict | None:
    """What append_events said moved (stream, expected and actual version), or None for another error."""
    if getattr(error.orig, "sqlstate", None) != _STREAM_MOVED:
        return None
    return json.loads(getattr(error.orig.__cause__, "detail", None) or "null")


async def append(
    conn: AsyncConnection, stream_id: str, stream_type: str, expected_version: int, new_events: list[NewEvent]
) -> list[int]:
    """Appends after `expected_version` or raises ConcurrencyConflict. Returns the positions."""
    return await append_many(conn, [(stream_id, stream_type, expected_version, new_events)])


async def read_stream(conn: AsyncConnection, stream_id: str) -> list[RecordedEvent]:
    """The stream's events in version order; each names the stream's type (`stream_type`), so a
    reader can tell a stream of another aggregate type from its own."""
    query = sa.select(events).where(events.c.stream_id == stream_id).order_by(events.c.version)
    return [_recorded(row) for row in await conn.execute(query)]


async def read_streams(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, list[RecordedEvent]]:
    """Several streams in one query (a batch of an import): each id's events in version order, an
    empty list for an id without events."""
    found: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in stream_ids}
    if stream_ids:
        query = (sa.select(events).where(events.c.stream_id.in_(stream_ids))
                 .order_by(events.c.stream_id, events.c.version))
        for row in await conn.execute(query):
            found[row.stream_id].append(_recorded(row))
    return found


async def read_all(conn: AsyncConnection, after_position: int, limit: int = 500) -> list[RecordedEvent]:
    """Events in global order after a position; never skips one (see module docstring)."""
    query = (
        sa.select(events).where(events.c.position > after_position).order_by(events.c.position).limit(limit)
    )
    return [_recorded(row) for row in await conn.execute(query)]
