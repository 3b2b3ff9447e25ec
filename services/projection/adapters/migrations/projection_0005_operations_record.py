"""projection: the shared contract record of operations (issue 12): origin, vendor, vendor contract
number, customer, parent, cancellation, owners, SLA, warranty, renewal and financial fields; link
dates; the history of dates and terms.

Revision ID: projection_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "projection_0005"
down_revision = "projection_0004"

COLUMNS = [
    ("contract_origin", sa.Text), ("vendor", sa.Text), ("vendor_contract_number", sa.Text), ("customer", sa.Text),
    ("parent_id", sa.Uuid), ("canceled_on", sa.Date), ("cancel_reason", sa.Text), ("owners", JSONB),
    ("sla_response_hours", sa.Numeric), ("sla_resolution_hours", sa.Numeric), ("service_hours", sa.Text),
    ("warranty_terms", sa.Text), ("warranty_until", sa.Date), ("renewable", sa.Boolean), ("renewal_options", sa.Text),
    ("renewal_notice_days", sa.Integer), ("payment_amount", sa.Numeric), ("payment_schedule", sa.Text),
    ("cost_per_unit", sa.Numeric), ("cost_center", sa.Text), ("po_number", sa.Text), ("tax", sa.Numeric),
    ("cost_currency", sa.Text),
]


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("contracts", sa.Column(name, type_))
    op.create_index("contracts_vendor", "contracts", ["vendor", "contract_id"])
    op.create_index("contracts_origin", "contracts", ["contract_origin", "contract_id"])
    op.add_column("contract_assets", sa.Column("effective_from", sa.Date))
    op.add_column("contract_assets", sa.Column("effective_to", sa.Date))
    op.add_column("contract_assets", sa.Column("carried_from", sa.Uuid))
    op.create_index("contract_assets_asset", "contract_assets", ["asset_id"])
    op.create_table(
        "contract_history",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
    )
    op.create_index("contract_history_contract", "contract_history", ["contract_id", "at"])
