"""order_sync: event store, outbox checkpoint and inbox.

Revision ID: order_sync_0001
"""

from shared.backbone.migrations import create_backbone_tables

revision = "order_sync_0001"
down_revision = None


def upgrade() -> None:
    create_backbone_tables()
