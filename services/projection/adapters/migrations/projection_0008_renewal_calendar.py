"""projection: the renewal calendar (issue 14): each contract's current period and its dates, the
obligations and their completed occurrences, and the calendar feeds (tokens stored as SHA-256).

Revision ID: projection_0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "projection_0008"
down_revision = "projection_0007"


def upgrade() -> None:
    op.create_table(
        "contract_renewal_dates",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("period_number", sa.Integer),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("notice_deadline", sa.Date),
        sa.Column("cancel_by", sa.Date),
        sa.Column("renewal", sa.Text),
        sa.Column("max_renewals", sa.Integer),
        sa.Column("renewals", sa.Integer),
        sa.Column("owners", JSONB),
        sa.Column("reminder_offsets_days", JSONB),
        sa.Column("time_zone", sa.Text),
        sa.Column("termination_given_on", sa.Date),
        sa.Column("termination_end", sa.Date),
        sa.Column("acknowledged", JSONB),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("contract_renewal_dates_cancel_by", "contract_renewal_dates", ["cancel_by"])
    op.create_index("contract_renewal_dates_end", "contract_renewal_dates", ["period_end"])
    op.create_table(
        "contract_obligations",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owners", JSONB, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("rrule", sa.Text),
        sa.Column("recurrence_start", sa.Date),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("source_clause", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("canceled_at", sa.DateTime(timezone=True)),
    )
    op.create_index("contract_obligations_contract", "contract_obligations", ["contract_id"])
    op.create_table(
        "contract_obligation_completions",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("evidence", JSONB),
        sa.Column("completed_by", sa.Text, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("feed_id", sa.Uuid, primary_key=True),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("scope_kind", sa.Text, nullable=False),
        sa.Column("scope_value", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("owner_roles", JSONB),
    )
    op.create_index("calendar_feeds_owner", "calendar_feeds", ["owner", "feed_id"])


def downgrade() -> None:
    for table in ("calendar_feeds", "contract_obligation_completions", "contract_obligations", "contract_renewal_dates"):
        op.drop_table(table)
