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
