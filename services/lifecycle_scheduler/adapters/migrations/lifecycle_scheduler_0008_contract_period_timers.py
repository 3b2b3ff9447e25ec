"""lifecycle_scheduler: legal contracts' renewal terms and period state, and their period timers.

Revision ID: lifecycle_scheduler_0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "lifecycle_scheduler_0008"
down_revision = "lifecycle_scheduler_0007"

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contract_period_states",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("activated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("time_zone", sa.Text),
        sa.Column("terms", JSONB),
        sa.Column("period", JSONB),
        sa.Column("renewals", sa.Integer, nullable=False, server_default="0"),
        sa.Column("notice_period", sa.Integer),
        sa.Column("acknowledged", JSONB, nullable=False, server_default="[]"),
        sa.Column("expired", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "contract_period_timers",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("period_number", sa.Integer, primary_key=True),
        sa.Column("anchor", sa.Text, primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("anchor_date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT),
        sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("contract_period_timers_due", "contract_period_timers", ["due_at"],
                    postgresql_where=sa.text("fired_at IS NULL"))
