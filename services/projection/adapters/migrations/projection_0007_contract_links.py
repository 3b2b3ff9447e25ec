"""projection: links between contracts (phase 7): amendments and renewal successors with their parent.

Revision ID: projection_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "projection_0007"
down_revision = "projection_0006"


def upgrade() -> None:
    op.create_table(
        "contract_links",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Uuid, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("linked_by", sa.Text, nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("contract_links_parent", "contract_links", ["parent_id", "relation"])
