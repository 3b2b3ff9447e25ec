"""lifecycle_scheduler: the event store's append in one call (the append_events function; see shared/backbone/migrations.py).

Revision ID: lifecycle_scheduler_0010
"""

from shared.backbone.migrations import create_append_function, drop_append_function

revision = "lifecycle_scheduler_0010"
down_revision = "lifecycle_scheduler_0009"


def upgrade() -> None:
    create_append_function()


def downgrade() -> None:
    drop_append_function()
