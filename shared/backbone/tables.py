"""The backbone's tables, defined once: the event store's `events` (and `events_position_seq`,
which appends draw positions from), the outbox relay's `outbox_checkpoint` and the consumers'
`inbox`. event_store, outbox and consumer query them; `migrations.create_backbone_tables`, which
each service's first revision calls, creates them from these objects.

A later change to a backbone table is a new revision in every service, never a change of what the
first one creates on a new database: first write today's shape out in create_backbone_tables
(op.create_table calls instead of these objects), then change the definition here and add a
shared migration function that a new revision of each service calls. tests/unit/test_backbone_tables.py
fails until the first step is done, tests/integration/test_migrations.py until the last.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    # Left to autoincrement, so the first revision made it a BIGSERIAL: its own sequence
    # (events_position_seq1) is the column default, unused; appends draw from events_position_seq.
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("stream_id", sa.Text, nullable=False),
    sa.Column("stream_type", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("correlation_id", sa.Text, nullable=False),
    sa.Column("causation_id", sa.Text, nullable=False, server_default=""),
    sa.Column("actor", sa.Text, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("stream_id", "version", name="events_stream_version_key"),
)

events_position_seq = sa.Sequence("events_position_seq", metadata=metadata)

outbox_checkpoint = sa.Table(
    "outbox_checkpoint",
    metadata,
    sa.Column("relay", sa.Text, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
