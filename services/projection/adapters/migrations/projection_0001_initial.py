"""projection: inbox (and the unused event store, kept for a uniform layout) and the read model.

Revision ID: projection_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.backbone.migrations import create_backbone_tables

revision = "projection_0001"
down_revision = None


def upgrade() -> None:
    create_backbone_tables()
    op.create_table(
        "contracts",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("contract_model", sa.Text),
        sa.Column("state", sa.Text),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("time_zone", sa.Text),
        sa.Column("parties", JSONB),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("expired_at", sa.DateTime(timezone=True)),
        sa.Column("service_contract_number", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("contracts_state_end", "contracts", ["state", "end_date"])
    op.create_table(
        "contract_assets",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("asset_id", sa.Text, primary_key=True),
        sa.Column("asset_name", sa.Text, nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
