"""asset_coverage: renewal successors from contracting, until their activation carries the links over.

Revision ID: asset_coverage_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "asset_coverage_0007"
down_revision = "asset_coverage_0006"


def upgrade() -> None:
    op.create_table(
        "contracting_successors",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("predecessor_id", sa.Uuid, nullable=False),
    )
