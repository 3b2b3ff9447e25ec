"""The coverage index's tables (bitemporal: each fact row is known from the recorded time of the
event that made it true until that of the event that replaced it; known_to NULL: still so). The
assets it reads (registered or not, kind, site, criticality, covered) are the inventory's
`asset_index` (inventory_index.py), not a copy."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

link_facts = sa.Table(
    "coverage_link_facts", metadata,
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("asset_id", sa.Text, nullable=False),
    sa.Column("effective_from", sa.Date),
    sa.Column("effective_to", sa.Date),
    sa.Column("carried_from", sa.Uuid),
    sa.Column("known_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("known_to", sa.DateTime(timezone=True)),
    # today's answers read the current rows; "as known at" reads the asset's history
    sa.Index("coverage_link_facts_current", "asset_id", "contract_id", unique=True,
             postgresql_where=sa.text("known_to IS NULL")),
    sa.Index("coverage_link_facts_asset", "asset_id", "known_from"),
    sa.Index("coverage_link_facts_contract", "contract_id", postgresql_where=sa.text("known_to IS NULL")),
)

contract_facts = sa.Table(
    "coverage_contract_facts", metadata,
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
    sa.Column("known_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("known_to", sa.DateTime(timezone=True)),
    sa.Index("coverage_contract_facts_current", "contract_id", unique=True, postgresql_where=sa.text("known_to IS NULL")),
    sa.Index("coverage_contract_facts_history", "contract_id", "known_from"),
)
