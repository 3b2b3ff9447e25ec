"""order_sync: the event store's append in one call (the append_events function; see shared/backbone/migrations.py).

Revision ID: order_sync_0006
"""

from shared.backbone.migrations import create_append_function, drop_append_function

revision = "order_sync_0006"
down_revision = "order_sync_0005"


def upgrade() -> None:
    create_append_function()


def downgrade() -> None:
    drop_append_function()
