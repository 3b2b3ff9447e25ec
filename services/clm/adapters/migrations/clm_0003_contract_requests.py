"""clm: the query table of contract requests (GET /api/v1/contract-requests).

Revision ID: clm_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "clm_0003"
down_revision = "clm_0002"


def upgrade() -> None:
    op.create_table(
        "contract_requests",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("account_name", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("quote_id", sa.Uuid),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("classification", sa.Text),
        sa.Column("queue", sa.Text),
        sa.Column("assignee", sa.Text),
        sa.Column("assignee_role", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
    )
    # The filters of GET /contract-requests, each followed by the cursor's order.
    op.create_index("contract_requests_state", "contract_requests", ["state", "contract_id"])
    op.create_index("contract_requests_queue", "contract_requests", ["queue", "contract_id"])
    op.create_index("contract_requests_assignee", "contract_requests", ["assignee", "contract_id"])
