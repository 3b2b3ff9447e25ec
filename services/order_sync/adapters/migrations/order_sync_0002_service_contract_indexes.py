"""order_sync: query tables of the service contract life cycle (coverage, owned products, entitlements).

Revision ID: order_sync_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "order_sync_0002"
down_revision = "order_sync_0001"


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("product_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, primary_key=True),
    )
    op.create_table(
        "owned_products",
        sa.Column("product_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("suspended", sa.Boolean, nullable=False),
    )
    op.create_table(
        "entitlement_index",
        sa.Column("entitlement_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("contract_number", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("line_id", sa.Uuid),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("support_level", sa.Text),
        sa.Column("sla", sa.Text),
        sa.Column("features", ARRAY(sa.Text), nullable=False),
        sa.Column("usage_limit", sa.Integer),
        sa.Column("usage_unit", sa.Text),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("covers", ARRAY(sa.Uuid), nullable=False),
    )
    op.create_index("entitlement_index_contract", "entitlement_index", ["contract_id"])
    op.create_index("entitlement_index_account", "entitlement_index", ["account", "name"])
    op.create_index("entitlement_index_covers", "entitlement_index", ["covers"], postgresql_using="gin")
