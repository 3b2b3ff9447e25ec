"""clm: obligations by contract, and where each occurrence's evidence document is.

Revision ID: clm_0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "clm_0008"
down_revision = "clm_0009"  # after the contract links (merged first), though numbered before them

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "obligations",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owners", ARRAY(sa.Text), nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("rrule", sa.Text),
        sa.Column("rrule_start", sa.Date),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("canceled_at", _AT),
    )
    op.create_index("obligations_contract", "obligations", ["contract_id", "obligation_id"])
    op.create_table(
        "obligation_evidence",
        sa.Column("obligation_id", sa.Uuid, primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("document_id", sa.Uuid, nullable=False),
    )
