"""clm: the event store's append in one call (the append_events function; see shared/backbone/migrations.py).

Revision ID: clm_0010
"""

from shared.backbone.migrations import create_append_function, drop_append_function

revision = "clm_0010"
down_revision = "clm_0008"


def upgrade() -> None:
    create_append_function()


def downgrade() -> None:
    drop_append_function()
