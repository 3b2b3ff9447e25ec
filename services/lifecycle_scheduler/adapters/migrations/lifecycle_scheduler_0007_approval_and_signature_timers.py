"""lifecycle_scheduler: approval SLA timers, signature deadlines and reminders, contract start timers.

Revision ID: lifecycle_scheduler_0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "lifecycle_scheduler_0007"
down_revision = "lifecycle_scheduler_0006"

_AT = sa.DateTime(timezone=True)
_UNFIRED = sa.text("fired_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "approval_timers",
        sa.Column("step_id", sa.Uuid, primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True),
        sa.Column("mark", sa.Text, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("step_due_at", _AT, nullable=False),
        sa.Column("recipients", ARRAY(sa.Text), nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT),
    )
    op.create_index("approval_timers_due", "approval_timers", ["due_at"], postgresql_where=_UNFIRED)
    op.create_index("approval_timers_contract", "approval_timers", ["contract_id"])
    op.create_table(
        "signature_deadline_timers",
        sa.Column("envelope_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("reminder_every_days", sa.Integer),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT),
    )
    op.create_index("signature_deadline_timers_due", "signature_deadline_timers", ["due_at"], postgresql_where=_UNFIRED)
    op.create_table(
        "signature_reminder_timers",
        sa.Column("envelope_id", sa.Uuid, primary_key=True),
        sa.Column("signer_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("invited_at", _AT, nullable=False),
        sa.Column("every_days", sa.Integer, nullable=False),
        sa.Column("deadline", _AT, nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT),
    )
    op.create_index("signature_reminder_timers_due", "signature_reminder_timers", ["due_at"], postgresql_where=_UNFIRED)
    op.create_table(
        "contract_start_timers",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("envelope_id", sa.Uuid, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT),
    )
    op.create_index("contract_start_timers_due", "contract_start_timers", ["due_at"], postgresql_where=_UNFIRED)
