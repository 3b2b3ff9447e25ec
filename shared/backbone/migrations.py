"""Applies a service's Alembic migrations to its own schema, at start-up.

Every service keeps its revisions in `services/<name>/adapters/migrations/`; the environment
(`shared/backbone/alembic/env.py`) is shared. An advisory lock lets several replicas start at once.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone import tables

_ENV_DIR = Path(__file__).parent / "alembic"


async def upgrade_to_head(engine: AsyncEngine, schema: str, versions_dir: Path) -> None:
    def run(sync_conn) -> None:
        sync_conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('migrate:' || :s))"), {"s": schema})
        config = Config()
        config.set_main_option("script_location", str(_ENV_DIR))
        config.set_main_option("version_locations", str(versions_dir))
        config.set_main_option("path_separator", "os")
        config.attributes["connection"] = sync_conn
        config.attributes["schema"] = schema
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(run)


def create_backbone_tables() -> None:
    """The event store, outbox checkpoint and inbox: called from each service's first revision.
    Creates them from their definitions in tables.py; see there before changing one."""
    tables.metadata.create_all(op.get_bind(), checkfirst=False)
    op.bulk_insert(tables.outbox_checkpoint, [{"relay": "kafka", "position": 0}])


# The event store's append in one call (event_store.append_many): takes the append lock, checks
# the expected version of every stream given (the guarded unchanged ones and the appended ones, in
# that order), and inserts the rows with positions drawn in row order. Created in each service's
# schema by a revision of its own (`<service>_00NN_append_function`), as frozen text: a later
# change is a new constant and a new revision in every service, never an edit of this one.
#
# Why a PL/pgSQL function and not one statement: in READ COMMITTED a statement sees the snapshot
# taken as it started, before any lock it then waits for, so a version check in the same statement
# as the LOCK could miss an append committed while it waited. A VOLATILE function (the default)
# "obtain[s] a fresh snapshot at the start of each query" it executes (PostgreSQL 15 manual, 38.7
# Function Volatility Categories), so the check below sees every append committed before the lock
# was granted. tests/integration/test_event_store.py checks it with an append that waits on the lock.
#
# SECURITY INVOKER (the default) and no SET search_path: `events` and `events_position_seq` are the
# caller's, found through its search_path, with its rights (each service's role is limited to its
# schema). A version that moved raises SQLSTATE ES409 with the stream, expected and actual version
# as JSON in DETAIL; event_store translates it into ConcurrencyConflict.
APPEND_EVENTS_V1 = """
CREATE FUNCTION append_events(
    expected_streams text[], expected_versions int[],
    stream_ids text[], stream_types text[], versions int[], event_ids uuid[], event_types text[],
    schema_versions int[], payloads text[], correlation_ids text[], causation_ids text[], actors text[]
) RETURNS SETOF bigint LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    moved record;
BEGIN
    LOCK TABLE events IN EXCLUSIVE MODE;
    SELECT x.stream_id, x.expected, x.actual INTO moved
    FROM (SELECT s.stream_id, s.expected, s.n,
                 coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = s.stream_id), 0) AS actual
          FROM unnest(expected_streams, expected_versions) WITH ORDINALITY AS s(stream_id, expected, n)) AS x
    WHERE x.actual <> x.expected
    ORDER BY x.n
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ES409',
            MESSAGE = 'stream ' || moved.stream_id || ' is at version ' || moved.actual || ', not ' || moved.expected,
            DETAIL = CAST(json_build_object('stream_id', moved.stream_id, 'expected_version', moved.expected,
                                            'actual_version', moved.actual) AS text);
    END IF;
    RETURN QUERY
    INSERT INTO events (position, stream_id, stream_type, version, event_id, event_type, schema_version,
                        payload, correlation_id, causation_id, actor)
    SELECT nextval('events_position_seq'), r.stream_id, r.stream_type, r.version, r.event_id, r.event_type,
           r.schema_version, CAST(r.payload AS jsonb), r.correlation_id, r.causation_id, r.actor
    FROM unnest(stream_ids, stream_types, versions, event_ids, event_types, schema_versions, payloads,
                correlation_ids, causation_ids, actors)
         WITH ORDINALITY AS r(stream_id, stream_type, version, event_id, event_type, schema_version, payload,
                              correlation_id, causation_id, actor, n)
    ORDER BY r.n
    RETURNING events.position;
END
$fn$
"""

_DROP_APPEND_EVENTS = ("DROP FUNCTION append_events(text[], int[], text[], text[], int[], uuid[], text[], int[],"
                       " text[], text[], text[], text[])")


def create_append_function() -> None:
    """The event store's one-call append (APPEND_EVENTS_V1), in the schema being migrated."""
    op.execute(sa.text(APPEND_EVENTS_V1))


def drop_append_function() -> None:
    op.execute(sa.text(_DROP_APPEND_EVENTS))
