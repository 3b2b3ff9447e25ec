"""The shared record's part of phases 4-6 (issue 13), as the API shows it: approval (the current
round's steps), signature (the current envelope's signers), execution (version and hash),
activation, order, service contract and reconciliation. None until the phase's first event."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events.activation import ActivationMissing
from shared.events.approvals import Approver
from shared.events.documents import DocumentRef
from shared.events.reconciliation import Difference


class ApprovalStep(BaseModel):
    step_id: UUID
    position: int = Field(description="n in the step id uuid5(contract_id, f'{round}/{n}')")
    name: str
    sequence: int = Field(description="steps with the same sequence run in parallel")
    approvers: list[Approver] = Field(description="who may approve now (the current escalation level's)")
    informed_roles: list[str]
    sla: str
    state: Literal["waiting", "open", "granted", "rejected", "closed", "invalidated"]
    level: int = Field(description="0: the step's own approvers; n: escalated to the n-th level")
    opened_at: dt.datetime | None
    at_risk_at: dt.datetime | None
    due_at: dt.datetime | None
    at_risk_since: dt.datetime | None = Field(description="when it was reported at risk at its current level")
    escalated_at: dt.datetime | None
    decided_by: str | None = Field(description="who granted or rejected it")
    decided_roles: list[str] | None
    decided_at: dt.datetime | None
    comment: str | None


class Approval(BaseModel):
    round: int
    state: Literal["awaiting_approval", "approved", "rejected", "invalidated"]
    version_number: int = Field(description="the version routed for approval")
    approved_version: int | None
    matrix_id: UUID
    matrix_version: int
    since: dt.datetime
    reason: str | None = Field(description="why the approvals given were invalidated")
    steps: list[ApprovalStep]


class SignerState(BaseModel):
    signer_id: UUID
    name: str
    email: str
    role: str
    routing_order: int
    state: Literal["waiting", "invited", "viewed", "signed", "declined"]
    invited_at: dt.datetime | None
    reminded_at: dt.datetime | None
    viewed_at: dt.datetime | None
    signed_at: dt.datetime | None
    declined_at: dt.datetime | None
    decline_reason: str | None


class Signature(BaseModel):
    envelope_id: UUID
    state: Literal["requested", "declined", "expired", "canceled", "executed"]
    provider: str
    provider_envelope_id: str | None
    version_number: int
    deadline: dt.datetime
    since: dt.datetime
    reason: str | None
    signers: list[SignerState]


class Execution(BaseModel):
    version_number: int
    sha256: str = Field(description="SHA-256 of the signed copy: the executed version's hash")
    signed_document: DocumentRef
    audit_certificate: DocumentRef
    executed_at: dt.datetime


class Activation(BaseModel):
    state: Literal["blocked", "activated"]
    missing: list[ActivationMissing]
    at: dt.datetime


class FalloutLine(BaseModel):
    order_line_id: UUID
    rule: str
    message: str
    attempt: int
    at: dt.datetime


class Order(BaseModel):
    order_id: UUID
    state: Literal["created", "fulfilled"]
    since: dt.datetime
    fallout: list[FalloutLine] = Field(description="lines that fell out and are not fulfilled yet")


class Reconciliation(BaseModel):
    state: Literal["reconciled", "mismatched"]
    differences: list[Difference] = Field(description="announced since it was last reconciled")
    since: dt.datetime


class ContractingProgress(BaseModel):
    approval: Approval | None = None
    signature: Signature | None = None
    execution: Execution | None = None
    activation: Activation | None = None
    order: Order | None = None
    service_contract_id: UUID | None = None
    reconciliation: Reconciliation | None = None
