"""projection: the phase intervals of cycle-time analytics (issue 14, part 5): one row per
(contract, phase) with its first start and last end.

Revision ID: projection_0009
"""

import sqlalchemy as sa
from alembic import op

revision = "projection_0009"
down_revision = "projection_0008"


def upgrade() -> None:
    op.create_table(
        "contract_phase_intervals",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("phase", sa.Text, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("canceled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("contract_phase_intervals_open", "contract_phase_intervals", ["phase"],
                    postgresql_where=sa.text("ended_at IS NULL"))


def downgrade() -> None:
    op.drop_table("contract_phase_intervals")
