"""lifecycle_scheduler: obligations' terms, completed occurrences and due / overdue timers.

Revision ID: lifecycle_scheduler_0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "lifecycle_scheduler_0009"
down_revision = "lifecycle_scheduler_0008"

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "obligation_terms",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owners", ARRAY(sa.Text), nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("rrule", sa.Text),
        sa.Column("rrule_start", sa.Date),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("canceled_at", _AT),
    )
    op.create_table(
        "obligation_completions",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
    )
    op.create_table(
        "obligation_timers",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("mark", sa.Text, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT),
    )
    op.create_index("obligation_timers_due", "obligation_timers", ["due_at"], postgresql_where=sa.text("fired_at IS NULL"))
