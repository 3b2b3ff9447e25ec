"""Applies a service's Alembic migrations to its own schema, at start-up.

Every service keeps its revisions in `services/<name>/adapters/migrations/`; the environment
(`shared/backbone/alembic/env.py`) is shared. An advisory lock lets several replicas start at once.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

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
    """The event store, outbox checkpoint and inbox: called from each service's first revision."""
    op.execute("CREATE SEQUENCE events_position_seq")
    op.create_table(
        "events",
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
        sa.Column("actor", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("stream_id", "version", name="events_stream_version_key"),
    )
    op.create_table(
        "outbox_checkpoint",
        sa.Column("relay", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.execute("INSERT INTO outbox_checkpoint (relay, position) VALUES ('kafka', 0)")
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
