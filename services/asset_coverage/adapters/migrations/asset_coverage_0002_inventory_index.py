"""asset_coverage: the inventory's query tables (asset_index, operational_contract_index).

Revision ID: asset_coverage_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "asset_coverage_0002"
down_revision = "asset_coverage_0001"


def upgrade() -> None:
    op.create_table(
        "asset_index",
        sa.Column("asset_id", sa.Text(collation="C"), primary_key=True),  # pages in code point order, as ids are compared
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("site", sa.Text),
        sa.Column("criticality", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("model", sa.Text),
        sa.Column("covered", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("asset_index_site_kind", "asset_index", ["site", "kind", "asset_id"])
    op.create_index("asset_index_criticality", "asset_index", ["criticality", "asset_id"])
    op.create_index("asset_index_owner", "asset_index", ["owner", "asset_id"])
    op.create_table(
        "operational_contract_index",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("number", sa.Text),
        sa.Column("vendor", sa.Text),
        sa.Column("vendor_contract_number", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("customer", sa.Text),
        sa.Column("contract_model", sa.Text),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("owners", ARRAY(sa.Text), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("operational_contract_index_state", "operational_contract_index", ["state", "contract_id"])
    op.create_index("operational_contract_index_vendor", "operational_contract_index",
                    [sa.text("lower(vendor)"), "contract_id"])
    op.create_index("operational_contract_index_end", "operational_contract_index", ["end_date"])
