"""lifecycle_scheduler: link-date timers, one per link and date kind (start, end).

Revision ID: lifecycle_scheduler_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "lifecycle_scheduler_0005"
down_revision = "lifecycle_scheduler_0004"


def upgrade() -> None:
    op.create_table(
        "link_timers",
        sa.Column("link_id", sa.Uuid, primary_key=True),
        sa.Column("which", sa.Text, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("asset_id", sa.Text, nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    )
    op.create_index("link_timers_due", "link_timers", ["due_at"], postgresql_where=sa.text("fired_at IS NULL"))
