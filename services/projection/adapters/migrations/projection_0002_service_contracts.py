"""projection: the service contract read model (contracts, lines, entitlements) and the sold
products and install base items they cover.

Lines and entitlements are keyed within their contract, so reading a contract's children and
removing a line's entitlements use the primary key. They leave room in each page (fillfactor) so
their many state changes can be HOT updates, which write no index entry (none of their indexes
holds the state).

Revision ID: projection_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "projection_0002"
down_revision = "projection_0001"


def upgrade() -> None:
    op.create_table(
        "service_contracts",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_since", sa.Date),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The filters of GET /service-contracts, each followed by the cursor's order.
    op.create_index("service_contracts_account", "service_contracts", ["account", "contract_id"])
    op.create_index("service_contracts_state", "service_contracts", ["state", "contract_id"])
    op.create_index("service_contracts_number", "service_contracts", ["number"])
    op.create_table(
        "contract_lines",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("line_id", sa.Uuid, primary_key=True),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Numeric, nullable=False),
        sa.Column("sold_product_id", sa.Uuid),
        sa.Column("install_base_item_id", sa.Uuid),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_since", sa.Date),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("disconnected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        postgresql_with={"fillfactor": 70},
    )
    op.create_table(
        "entitlements",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("entitlement_id", sa.Uuid, primary_key=True),
        sa.Column("line_id", sa.Uuid),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("support_level", sa.Text),
        sa.Column("sla", sa.Text),
        sa.Column("features", ARRAY(sa.Text), nullable=False),
        sa.Column("usage_limit", sa.Integer),
        sa.Column("usage_unit", sa.Text),
        sa.Column("sold_product_id", sa.Uuid),
        sa.Column("install_base_item_id", sa.Uuid),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_since", sa.Date),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        postgresql_with={"fillfactor": 70},
    )
    op.create_table(
        "sold_products",
        sa.Column("sold_product_id", sa.Uuid, primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_since", sa.Date),
        sa.Column("suspension_reason", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "install_base_items",
        sa.Column("install_base_item_id", sa.Uuid, primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("sold_product_id", sa.Uuid),
        sa.Column("serial_number", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_since", sa.Date),
        sa.Column("suspension_reason", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("install_base_items", "sold_products", "entitlements", "contract_lines", "service_contracts"):
        op.drop_table(table)
