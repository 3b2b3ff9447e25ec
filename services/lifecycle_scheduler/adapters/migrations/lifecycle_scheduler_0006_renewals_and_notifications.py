"""lifecycle_scheduler: renewal deadline timers and the notification channel (series, occurrences,
deliveries, subscriptions).

Revision ID: lifecycle_scheduler_0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "lifecycle_scheduler_0006"
down_revision = "lifecycle_scheduler_0005"

_NOW = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "renewal_timers",
        sa.Column("task_id", sa.Uuid, primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("due_at", _NOW, nullable=False),
        sa.Column("fired_at", _NOW),
        sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("renewal_timers_due", "renewal_timers", ["due_at"], postgresql_where=sa.text("fired_at IS NULL"))
    op.create_index("renewal_timers_contract", "renewal_timers", ["contract_id"])
    op.create_table(
        "notification_series",
        sa.Column("series_key", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("recipients", ARRAY(sa.Text), nullable=False),
        sa.Column("repeat_days", sa.Integer),
        sa.Column("escalate_after", sa.Integer),
        sa.Column("escalate_to", ARRAY(sa.Text), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("next_at", _NOW),
        sa.Column("stopped_at", _NOW),
    )
    op.create_index("notification_series_due", "notification_series", ["next_at"],
                    postgresql_where=sa.text("stopped_at IS NULL"))
    op.create_table(
        "notification_occurrences",
        sa.Column("occurrence_key", sa.Text, primary_key=True),
        sa.Column("series_key", sa.Text, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("at", _NOW, nullable=False),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column("occurrence_key", sa.Text, nullable=False),
        sa.Column("series_key", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _NOW),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", _NOW, nullable=False),
        sa.Column("sent_at", _NOW),
        sa.UniqueConstraint("occurrence_key", "recipient", "channel", "address", name="notification_deliveries_once"),
    )
    op.create_index("notification_deliveries_due", "notification_deliveries", ["next_attempt_at"],
                    postgresql_where=sa.text("state = 'pending'"))
    op.create_index("notification_deliveries_state", "notification_deliveries", ["state", "delivery_id"])
    op.create_index("notification_deliveries_series", "notification_deliveries", ["series_key"])
    op.create_table(
        "notification_subscriptions",
        sa.Column("recipient", sa.Text, primary_key=True),
        sa.Column("email", sa.Text),
        sa.Column("webhook_url", sa.Text),
        sa.Column("webhook_secret", sa.Text),
        sa.Column("updated_at", _NOW, nullable=False),
    )
