"""The event store: one append-only `events` table per service schema.

Layout: `position` (global order), `stream_id` + `version` (unique: optimistic concurrency),
`event_id`, `event_type`, `schema_version`, `payload`, correlation/causation, `recorded_at`.

Gap-free global order. A BIGSERIAL alone lets a reader skip events: transaction A draws
position 10, B draws 11 and commits first; a reader that sees 11 and remembers it never sees 10.
We serialize appends instead: every append takes `LOCK TABLE events IN EXCLUSIVE MODE` (blocks
other appenders, not readers) before drawing positions, and holds it to commit. So positions
become visible in exactly the order they were drawn, and per stream they follow versions.
(xid8 + pg_snapshot_xmin avoids the lock but orders by transaction id, which can put a stream's
version 6 before its version 5 when the second writer's transaction id is older.) The cost is one
appender at a time per service; the unit of work appends last, right before COMMIT, to keep the
locked window short. The table doubles as the transactional outbox (see outbox.py).
"""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.errors import ConcurrencyConflict
from shared.events import Event, event_class
from shared.events.envelope import Envelope

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("stream_id", sa.Text, nullable=False),
    sa.Column("stream_type", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("correlation_id", sa.Text, nullable=False),
    sa.Column("causation_id", sa.Text, nullable=False, server_default=""),
    sa.Column("actor", sa.Text, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("stream_id", "version", name="events_stream_version_key"),
)

events_position_seq = sa.Sequence("events_position_seq", metadata=metadata)


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


async def check_versions(conn: AsyncConnection, expected: dict[str, int]) -> None:
    """Raises ConcurrencyConflict unless every stream is still at the version given.
    Only meaningful under the append lock."""
    query = (
        sa.select(events.c.stream_id, sa.func.max(events.c.version))
        .where(events.c.stream_id.in_(list(expected)))
        .group_by(events.c.stream_id)
    )
    actual = {stream_id: version for stream_id, version in await conn.execute(query)}
    for stream_id, version in expected.items():
        if actual.get(stream_id, 0) != version:
            raise ConcurrencyConflict(stream_id, version, actual.get(stream_id, 0))


async def append(
    conn: AsyncConnection, stream_id: str, stream_type: str, expected_version: int, new_events: list[NewEvent]
) -> list[int]:
    """Appends after `expected_version` or raises ConcurrencyConflict. Returns the positions."""
    if not new_events:
        return []
    await lock_for_append(conn)
    actual = await stream_version(conn, stream_id)
    if actual != expected_version:
        raise ConcurrencyConflict(stream_id, expected_version, actual)
    rows = [
        {
            "position": events_position_seq.next_value(),
            "stream_id": stream_id,
            "stream_type": stream_type,
            "version": expected_version + i,
            "event_id": e.event_id,
            "event_type": e.event.event_type,
            "schema_version": e.event.schema_version,
            "payload": e.event.model_dump(mode="json"),
            "correlation_id": e.correlation_id,
            "causation_id": e.causation_id,
            "actor": e.actor,
        }
        for i, e in enumerate(new_events, start=1)
    ]
    positions = []
    for row in rows:  # one statement per row: a multi-row VALUES cannot carry nextval per row in Core
        positions.append((await conn.execute(events.insert().values(**row).returning(events.c.position))).scalar_one())
    return positions


async def read_stream(conn: AsyncConnection, stream_id: str) -> list[RecordedEvent]:
    query = sa.select(events).where(events.c.stream_id == stream_id).order_by(events.c.version)
    return [_recorded(row) for row in await conn.execute(query)]


async def read_all(conn: AsyncConnection, after_position: int, limit: int = 500) -> list[RecordedEvent]:
    """Events in global order after a position; never skips one (see module docstring)."""
    query = (
        sa.select(events).where(events.c.position > after_position).order_by(events.c.position).limit(limit)
    )
    return [_recorded(row) for row in await conn.execute(query)]
