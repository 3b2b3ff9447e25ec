"""The event store's append for many streams at once, for sweeps that fire thousands of timers.

`event_store.append` costs two round trips per stream (read its version, insert the row); here
a batch costs two in all: one query for every stream's version and one INSERT of every event.
The rules are the event store's: the append lock is taken before the versions are read and held
to commit (so they stay true and positions become visible in order), positions come from
`events_position_seq`, and (stream_id, version) stays unique.
"""

from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone import event_store
from shared.backbone.aggregate import Aggregate

_INSERT = sa.text(
    """
    INSERT INTO events (position, stream_id, stream_type, version, event_id, event_type, schema_version,
                        payload, correlation_id, causation_id, actor)
    SELECT nextval('events_position_seq'), e.stream_id, e.stream_type, e.version, e.event_id, e.event_type,
           e.schema_version, e.payload::jsonb, :correlation_id, :causation_id, :actor
    FROM unnest(CAST(:stream_ids AS text[]), CAST(:stream_types AS text[]), CAST(:versions AS int[]),
                CAST(:event_ids AS uuid[]), CAST(:event_types AS text[]), CAST(:schema_versions AS int[]),
                CAST(:payloads AS text[]))
         AS e(stream_id, stream_type, version, event_id, event_type, schema_version, payload)
    """
)


async def lock_and_read_versions(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, int]:
    """Takes the append lock, then reads each stream's version (0 for a new one): no one else can
    append to them before this transaction ends."""
    await event_store.lock_for_append(conn)
    e = event_store.events.c
    query = (
        sa.select(e.stream_id, sa.func.max(e.version))
        .where(e.stream_id == sa.any_(sa.bindparam("stream_ids", stream_ids, type_=ARRAY(sa.Text))))
        .group_by(e.stream_id)
    )
    found = {stream_id: version for stream_id, version in await conn.execute(query)}
    return {stream_id: found.get(stream_id, 0) for stream_id in stream_ids}


async def append_pending(
    conn: AsyncConnection, aggregates: list[Aggregate], *, correlation_id: str, causation_id: str = "",
    actor: str | None = None,
) -> int:
    """Appends every pending event of the aggregates in one statement; returns how many. Each
    aggregate must have been made at the version lock_and_read_versions gave in this transaction."""
    columns: dict[str, list] = {k: [] for k in
                                ("stream_ids", "stream_types", "versions", "event_ids", "event_types",
                                 "schema_versions", "payloads")}
    for aggregate in aggregates:
        for version, event in enumerate(aggregate.pending_events, start=aggregate.persisted_version + 1):
            columns["stream_ids"].append(str(aggregate.id))
            columns["stream_types"].append(aggregate.stream_type)
            columns["versions"].append(version)
            columns["event_ids"].append(uuid4())
            columns["event_types"].append(event.event_type)
            columns["schema_versions"].append(event.schema_version)
            columns["payloads"].append(event.model_dump_json())
    if not columns["stream_ids"]:
        return 0
    await event_store.lock_for_append(conn)  # already held: re-taking it is free
    await conn.execute(_INSERT, {**columns, "correlation_id": correlation_id, "causation_id": causation_id, "actor": actor})
    for aggregate in aggregates:
        aggregate.mark_persisted()
    return len(columns["stream_ids"])
