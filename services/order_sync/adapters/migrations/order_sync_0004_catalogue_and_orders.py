"""order_sync: the query tables of the catalogue (GET /api/v1/catalogue) and of orders
(GET /api/v1/orders?fallout=true).

Revision ID: order_sync_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "order_sync_0004"
down_revision = "order_sync_0003"


def upgrade() -> None:
    op.create_table(
        "catalogue_index",
        sa.Column("sku", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False),
    )
    op.create_index("catalogue_index_retired", "catalogue_index", ["retired", "sku"])
    op.create_table(
        "order_index",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("fallout_lines", sa.Integer, nullable=False),
        sa.Column("fallout_skus", ARRAY(sa.Text), nullable=False),
    )
    op.create_index("order_index_fallout", "order_index", ["fallout_lines", "order_id"])
