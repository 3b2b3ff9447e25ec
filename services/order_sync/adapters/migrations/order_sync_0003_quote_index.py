"""order_sync: the quote index (state, account, opportunity of each quote, for the quote list).

Revision ID: order_sync_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "order_sync_0003"
down_revision = "order_sync_0002"


def upgrade() -> None:
    op.create_table(
        "quote_index",
        sa.Column("quote_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("account_name", sa.Text, nullable=False),
        sa.Column("opportunity_id", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("deal_size", sa.Numeric, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("quote_index_account", "quote_index", ["account_id", "quote_id"])
    op.create_index("quote_index_opportunity", "quote_index", ["opportunity_id", "quote_id"])
    op.create_index("quote_index_state", "quote_index", ["state", "quote_id"])
