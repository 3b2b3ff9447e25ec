"""clm: the links of amendments and renewal successors to their parent (one row per linked contract).

Revision ID: clm_0009
"""

import sqlalchemy as sa
from alembic import op

revision = "clm_0009"
down_revision = "clm_0007"


def upgrade() -> None:
    op.create_table(
        "contract_links",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("parent_id", sa.Uuid, nullable=False),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
    )
    op.create_index("contract_links_parent", "contract_links", ["parent_id", "relation", "effective_date"])
