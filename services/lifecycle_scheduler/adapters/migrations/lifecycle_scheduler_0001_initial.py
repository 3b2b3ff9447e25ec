"""lifecycle_scheduler: event store, outbox checkpoint, inbox and durable timers.

Revision ID: lifecycle_scheduler_0001
"""

import sqlalchemy as sa
from alembic import op

from shared.backbone.migrations import create_backbone_tables

revision = "lifecycle_scheduler_0001"
down_revision = None


def upgrade() -> None:
    create_backbone_tables()
    op.create_table(
        "timers",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    )
    op.create_index("timers_due", "timers", ["due_at"], postgresql_where=sa.text("fired_at IS NULL"))
