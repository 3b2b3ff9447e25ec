"""asset_coverage: the bitemporal coverage index (link and contract facts) and the assets' copy.

Revision ID: asset_coverage_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "asset_coverage_0003"
down_revision = "asset_coverage_0002"



def _known() -> tuple[sa.Column, sa.Column]:
    return (sa.Column("known_from", sa.DateTime(timezone=True), nullable=False),
            sa.Column("known_to", sa.DateTime(timezone=True)))


def upgrade() -> None:
    op.create_table(
        "coverage_link_facts",
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("asset_id", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date),
        sa.Column("effective_to", sa.Date),
        sa.Column("carried_from", sa.Uuid),
        *_known(),
    )
    op.create_index("coverage_link_facts_current", "coverage_link_facts", ["asset_id", "contract_id"], unique=True,
                    postgresql_where=sa.text("known_to IS NULL"))
    op.create_index("coverage_link_facts_asset", "coverage_link_facts", ["asset_id", "known_from"])
    op.create_index("coverage_link_facts_contract", "coverage_link_facts", ["contract_id"],
                    postgresql_where=sa.text("known_to IS NULL"))
    op.create_table(
        "coverage_contract_facts",
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("number", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("contract_model", sa.Text),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("canceled_on", sa.Date),
        sa.Column("sla", JSONB),
        sa.Column("warranty", JSONB),
        *_known(),
    )
    op.create_index("coverage_contract_facts_current", "coverage_contract_facts", ["contract_id"], unique=True,
                    postgresql_where=sa.text("known_to IS NULL"))
    op.create_index("coverage_contract_facts_history", "coverage_contract_facts", ["contract_id", "known_from"])
