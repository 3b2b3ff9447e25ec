"""order_sync: the reconciliation table (signed terms of each executed contract, the order's line
mapping, the latest check's state and differences).

Revision ID: order_sync_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "order_sync_0005"
down_revision = "order_sync_0004"


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Text),
        sa.Column("account", sa.Text),
        sa.Column("executed_at", sa.DateTime(timezone=True)),
        sa.Column("signed", JSONB, nullable=False),
        sa.Column("fulfilled_lines", JSONB, nullable=False),
        sa.Column("order_lines", JSONB, nullable=False),
        sa.Column("order_state", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("differences", JSONB, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("reconciled_at", sa.DateTime(timezone=True)),
    )
    op.create_index("reconciliations_state", "reconciliations", ["state", "contract_id"])
