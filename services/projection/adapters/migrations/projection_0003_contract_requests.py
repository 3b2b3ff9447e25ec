"""projection: the request's columns on the shared contract record (clm, phase 1), and room for
the template, the current version and the open deviations and comments (filled by later issues).

Revision ID: projection_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "projection_0003"
down_revision = "projection_0002"

COLUMNS = [
    ("request_state", sa.Text), ("request_state_since", sa.DateTime(timezone=True)), ("origin", sa.Text),
    ("quote_id", sa.Uuid), ("opportunity_id", sa.Text), ("classification", sa.Text), ("queue", sa.Text),
    ("assignee", sa.Text), ("assignee_role", sa.Text), ("currency", sa.Text), ("deal_size", sa.Numeric),
    ("request_versions", JSONB),  # field -> stream version of the request event that set it
    ("template_id", sa.Uuid), ("template_version", sa.Integer), ("current_version_number", sa.Integer),
    ("current_version_sha256", sa.Text), ("current_version_author", sa.Text), ("open_deviations", sa.Integer),
    ("open_comments", sa.Integer),
]


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("contracts", sa.Column(name, type_))
    # The filters of GET /contracts, each followed by the cursor's order.
    op.create_index("contracts_request_state", "contracts", ["request_state", "contract_id"])
    op.create_index("contracts_classification", "contracts", ["classification", "contract_id"])
