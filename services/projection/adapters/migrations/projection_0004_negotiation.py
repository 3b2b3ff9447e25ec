"""projection: the negotiation on the shared contract record (clm, phases 2-3): the template's
kind, the current version's origin and time, the negotiated terms; the deviations and the comment
threads the open counts are recounted from.

Revision ID: projection_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "projection_0004"
down_revision = "projection_0003"

COLUMNS = [
    ("template_kind", sa.Text), ("current_version_origin", sa.Text),
    ("current_version_added_at", sa.DateTime(timezone=True)), ("liability_cap", sa.Numeric),
    ("liability_cap_currency", sa.Text), ("auto_renewal", sa.Boolean), ("payment_days", sa.Integer),
    ("governing_law", sa.Text),
]


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("contracts", sa.Column(name, type_))
    op.create_table(
        "contract_deviations",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("deviation_id", sa.Uuid, primary_key=True),
        sa.Column("version_number", sa.Integer),
        sa.Column("kind", sa.Text),
        sa.Column("clause_number", sa.Text),
        sa.Column("heading", sa.Text),
        sa.Column("term", sa.Text),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("flagged_at", sa.DateTime(timezone=True)),
        sa.Column("cleared_in_version", sa.Integer),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "contract_comment_threads",
        sa.Column("thread_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("status_version", sa.Integer, nullable=False),
    )
    op.create_index("contract_comment_threads_contract", "contract_comment_threads", ["contract_id", "is_open"])
