"""clm: the copy of order sync's catalogue (order readiness) and the activations waiting on a SKU.

Revision ID: clm_0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "clm_0007"
down_revision = "clm_0006"


def upgrade() -> None:
    op.create_table(
        "catalogue_copy",
        sa.Column("sku", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("entitlements", JSONB, nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False),
    )
    op.create_table(
        "activation_waits",
        sa.Column("sku", sa.Text, primary_key=True),
        sa.Column("contract_id", sa.Uuid, primary_key=True),
    )
