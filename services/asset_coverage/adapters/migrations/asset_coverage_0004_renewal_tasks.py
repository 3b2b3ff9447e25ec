"""asset_coverage: the renewal tasks' query table.

Revision ID: asset_coverage_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "asset_coverage_0004"
down_revision = "asset_coverage_0003"


def upgrade() -> None:
    op.create_table(
        "renewal_tasks",
        sa.Column("task_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("assignees", ARRAY(sa.Text), nullable=False),
        sa.Column("deadlines", ARRAY(sa.Integer), nullable=False),
        sa.Column("completed_by", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("superseded_because", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("renewal_tasks_contract", "renewal_tasks", ["contract_id", "task_id"])
    op.create_index("renewal_tasks_state", "renewal_tasks", ["state", "task_id"])
    op.create_index("renewal_tasks_assignees", "renewal_tasks", ["assignees"], postgresql_using="gin")
