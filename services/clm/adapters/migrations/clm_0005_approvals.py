"""clm: approvals' query tables (adapters/approval_index.py): the approvers' queue of open steps
(GET /api/v1/approvals) and the list of approval matrices.

Revision ID: clm_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "clm_0005"
down_revision = "clm_0004"


def upgrade() -> None:
    op.create_table(
        "approval_queue",
        sa.Column("step_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("approvers", ARRAY(sa.Text), nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at_risk", sa.Boolean, nullable=False),
    )
    op.create_index("approval_queue_contract", "approval_queue", ["contract_id"])
    op.create_index("approval_queue_approvers", "approval_queue", ["approvers"], postgresql_using="gin")
    op.create_table(
        "approval_matrices",
        sa.Column("matrix_id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
