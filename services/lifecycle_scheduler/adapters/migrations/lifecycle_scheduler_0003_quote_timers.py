"""lifecycle_scheduler: quote validity timers, one per quote.

Revision ID: lifecycle_scheduler_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "lifecycle_scheduler_0003"
down_revision = "lifecycle_scheduler_0002"


def upgrade() -> None:
    op.create_table(
        "quote_timers",
        sa.Column("quote_id", sa.Uuid, primary_key=True),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    )
    op.create_index("quote_timers_due", "quote_timers", ["due_at"], postgresql_where=sa.text("fired_at IS NULL"))
