"""asset_coverage: the change window index, calendar feed tokens and the feed index.

Revision ID: asset_coverage_0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "asset_coverage_0006"
down_revision = "asset_coverage_0005"


def upgrade() -> None:
    op.create_table(
        "change_window_index",
        sa.Column("window_id", sa.Uuid, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asset_ids", ARRAY(sa.Text), nullable=False),
        sa.Column("site", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("contract_id", sa.Uuid),
        sa.Column("vendor", sa.Text),
        sa.Column("canceled", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("change_window_index_assets", "change_window_index", ["asset_ids"], postgresql_using="gin")
    op.create_index("change_window_index_site", "change_window_index", ["site", "starts_at"])
    op.create_index("change_window_index_starts", "change_window_index", ["starts_at"])

    op.create_table(
        "calendar_feeds",
        sa.Column("feed_id", sa.Uuid, primary_key=True),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("scope_kind", sa.Text, nullable=False),
        sa.Column("scope_value", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("calendar_feeds_owner", "calendar_feeds", ["owner", "feed_id"])

    op.create_table(
        "calendar_contracts",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("vendor", sa.Text),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("owners", ARRAY(sa.Text), nullable=False),
        sa.Column("canceled", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("calendar_contracts_owners", "calendar_contracts", ["owners"], postgresql_using="gin")
    op.create_table(
        "calendar_links",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("asset_id", sa.Text, primary_key=True),
    )
    op.create_index("calendar_links_asset", "calendar_links", ["asset_id"])
    op.create_table(
        "calendar_assets",
        sa.Column("asset_id", sa.Text, primary_key=True),
        sa.Column("site", sa.Text),
        sa.Column("owner", sa.Text),
    )
    op.create_index("calendar_assets_site", "calendar_assets", ["site"])
