"""lifecycle_scheduler: durable timers of service contracts, their lines and entitlements.

Revision ID: lifecycle_scheduler_0002
Revises: lifecycle_scheduler_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lifecycle_scheduler_0002"
down_revision = "lifecycle_scheduler_0001"


def upgrade() -> None:
    op.create_table(
        "service_contract_zones",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("time_zone", sa.Text, nullable=False),
    )
    op.create_table(
        "service_timers",
        sa.Column("contract_id", sa.Uuid, sa.ForeignKey("service_contract_zones.contract_id"), primary_key=True),
        sa.Column("item_id", sa.Uuid, primary_key=True),
        sa.Column("transition", sa.Text, primary_key=True),
        sa.Column("item_kind", sa.Text, nullable=False),
        sa.Column("line_id", sa.Uuid),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("item_kind IN ('contract', 'line', 'entitlement')", name="service_timers_item_kind"),
        sa.CheckConstraint("transition IN ('activation', 'expiry')", name="service_timers_transition"),
    )
    # Only unfired timers, in the order a sweep claims them: a sweep reads what is due, nothing else.
    op.create_index(
        "service_timers_due", "service_timers", ["due_at", "contract_id"], postgresql_where=sa.text("fired_at IS NULL")
    )
