"""lifecycle_scheduler: vendor contracts' start and end timers, one per contract and kind.

Revision ID: lifecycle_scheduler_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "lifecycle_scheduler_0004"
down_revision = "lifecycle_scheduler_0003"


def upgrade() -> None:
    op.create_table(
        "operational_contract_timers",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    )
    op.create_index("operational_contract_timers_due", "operational_contract_timers", ["due_at"],
                    postgresql_where=sa.text("fired_at IS NULL"))
