"""clm: signature's tables: one-time signing links (SHA-256 only), the signing mail outbox,
provider webhook receipts (adapters/signature/tables.py).

Revision ID: clm_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "clm_0006"
down_revision = "clm_0005"


def upgrade() -> None:
    op.create_table(
        "signing_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("envelope_id", sa.Uuid, nullable=False),
        sa.Column("signer_id", sa.Uuid, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("signing_tokens_signer", "signing_tokens", ["envelope_id", "signer_id"])
    op.create_table(
        "signature_mail",
        sa.Column("mail_id", sa.Uuid, primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("signature_mail_pending", "signature_mail", ["created_at"], postgresql_where=sa.text("sent_at IS NULL"))
    op.create_table(
        "provider_receipts",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("provider_event_id", sa.Text, primary_key=True),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("contract_id", sa.Uuid),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "provider_envelopes",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("provider_envelope_id", sa.Text, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("envelope_id", sa.Uuid, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("provider_envelopes")
    op.drop_table("provider_receipts")
    op.drop_table("signature_mail")
    op.drop_table("signing_tokens")
