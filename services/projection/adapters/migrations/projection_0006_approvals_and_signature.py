"""projection: phases 4-6 on the shared contract record (issue 13): approval steps, signers, and each
contract's progress (approval, signature, execution, activation, order, service contract,
reconciliation).

Revision ID: projection_0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "projection_0006"
down_revision = "projection_0005"


def upgrade() -> None:
    op.create_table(
        "contract_approval_steps",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("step_id", sa.Uuid, primary_key=True),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("approvers", JSONB, nullable=False),
        sa.Column("informed_roles", JSONB, nullable=False),
        sa.Column("sla", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("at_risk_at", sa.DateTime(timezone=True)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("at_risk_since", sa.DateTime(timezone=True)),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_roles", JSONB),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("comment", sa.Text),
    )
    op.create_table(
        "contract_signers",
        sa.Column("envelope_id", sa.Uuid, primary_key=True),
        sa.Column("signer_id", sa.Uuid, primary_key=True),
        sa.Column("contract_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("routing_order", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.Column("viewed_at", sa.DateTime(timezone=True)),
        sa.Column("signed_at", sa.DateTime(timezone=True)),
        sa.Column("declined_at", sa.DateTime(timezone=True)),
        sa.Column("decline_reason", sa.Text),
    )
    op.create_index("contract_signers_contract", "contract_signers", ["contract_id"])
    op.create_table(
        "contract_progress",
        sa.Column("contract_id", sa.Uuid, primary_key=True),
        sa.Column("approval_round", sa.Integer),
        sa.Column("approval_state", sa.Text),
        sa.Column("approval_version", sa.Integer),
        sa.Column("approved_version", sa.Integer),
        sa.Column("matrix_id", sa.Uuid),
        sa.Column("matrix_version", sa.Integer),
        sa.Column("approval_since", sa.DateTime(timezone=True)),
        sa.Column("approval_reason", sa.Text),
        sa.Column("envelope_id", sa.Uuid),
        sa.Column("signature_state", sa.Text),
        sa.Column("signature_provider", sa.Text),
        sa.Column("provider_envelope_id", sa.Text),
        sa.Column("signature_version", sa.Integer),
        sa.Column("signature_deadline", sa.DateTime(timezone=True)),
        sa.Column("signature_since", sa.DateTime(timezone=True)),
        sa.Column("signature_reason", sa.Text),
        sa.Column("executed_version", sa.Integer),
        sa.Column("executed_sha256", sa.Text),
        sa.Column("signed_document", JSONB),
        sa.Column("audit_certificate", JSONB),
        sa.Column("executed_at", sa.DateTime(timezone=True)),
        sa.Column("activation_state", sa.Text),
        sa.Column("activation_missing", JSONB),
        sa.Column("activation_at", sa.DateTime(timezone=True)),
        sa.Column("order_id", sa.Uuid),
        sa.Column("order_state", sa.Text),
        sa.Column("order_fallout", JSONB),
        sa.Column("order_since", sa.DateTime(timezone=True)),
        sa.Column("service_contract_id", sa.Uuid),
        sa.Column("reconciliation_state", sa.Text),
        sa.Column("reconciliation_differences", JSONB),
        sa.Column("reconciliation_since", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
