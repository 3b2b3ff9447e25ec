"""asset_coverage: the event store's append in one call (the append_events function; see shared/backbone/migrations.py).

Revision ID: asset_coverage_0008
"""

from shared.backbone.migrations import create_append_function, drop_append_function

revision = "asset_coverage_0008"
down_revision = "asset_coverage_0007"


def upgrade() -> None:
    create_append_function()


def downgrade() -> None:
    drop_append_function()
