"""clm: the query table of comment threads (GET /api/v1/contracts/{id}/comments).

Revision ID: clm_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "clm_0004"
down_revision = "clm_0003"


def upgrade() -> None:
    op.create_table(
        "comment_threads",
        sa.Column("thread_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("version_number", sa.Integer, nullable=False),
        sa.Column("clause_number", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.Text),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolution_note", sa.Text),
        sa.Column("comments", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("comment_threads_contract", "comment_threads", ["contract_id", "thread_id"])
