"""Events of internal approvals (phase 4, services/clm).

The approval matrix is policy data on the library's topic, one stream per matrix (`matrix_id`),
each publication a new version. A contract's approvals are on the contract's own stream
(`clm.contracts.v1`, `contract_id`): routing, each step opened, granted or rejected, warned and
escalated, and invalidated by a new version, ordered with the versions they approve
(docs/design/approvals_and_signature.md)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event

ApproverKind = Literal["role", "user"]


class Approver(BaseModel):
    """Who may approve a step: anyone holding a role, or one named user (a JWT `sub`)."""

    kind: ApproverKind
    value: str = Field(min_length=1, max_length=200, examples=["legal_counsel"])


class ApprovalStepSpec(BaseModel):
    """A step a matching rule adds. Steps with the same `sequence` run in parallel; a higher
    sequence opens when every step before it is granted."""

    name: str = Field(min_length=1, max_length=120, examples=["Legal review"])
    sequence: int = Field(ge=1, le=20)
    approvers: list[Approver] = Field(min_length=1, description="any one of them grants the step")
    informed_roles: list[str] = Field(default_factory=list, description="told of the outcome (FYI), never asked")
    sla: str = Field(description="ISO 8601 duration from the step's opening to its deadline", examples=["P2D"])
    escalation: list[list[Approver]] = Field(
        default_factory=list,
        description="levels the step goes to when its deadline passes, in order; each level gets the SLA again")


class ApprovalRule(BaseModel):
    rule_id: str = Field(min_length=1, max_length=64, examples=["large-deal"])
    name: str = Field(min_length=1, max_length=200)
    condition: str = Field(
        max_length=2000, description="CEL over deal_size, max_discount_percent, risk_tier, classification, region, "
                                     "open_deviations, non_standard_clauses; empty: always", examples=["deal_size > 100000"])
    steps: list[ApprovalStepSpec] = Field(min_length=1)


class ApprovalMatrixPublished(Event):
    """A version of an approval matrix was published by a contract manager. Contracts routed
    before keep the version they were routed with."""

    event_type = "ApprovalMatrixPublished"
    topic = topics.CLM_LIBRARY
    source = "/services/clm"
    key_field = "matrix_id"
    matrix_id: UUID
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    rules: list[ApprovalRule]
    published_by: str
    published_at: dt.datetime


# -- a contract's approvals --------------------------------------------------------------------


class _ApprovalEvent(Event):
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID


class RoutedStep(BaseModel):
    step_id: UUID = Field(description="uuid5 of the contract id and the round and step number: stable on replay")
    name: str
    sequence: int = Field(ge=1)
    approvers: list[Approver]
    informed_roles: list[str] = Field(default_factory=list)
    sla: str = Field(description="ISO 8601 duration")
    escalation: list[list[Approver]] = Field(default_factory=list)
    rule_ids: list[str] = Field(description="the matrix rules that asked for this step")


class ApprovalRouted(_ApprovalEvent):
    """The contract was submitted for approval: the matrix version it was routed with and the
    steps that version's rules resolved for the version to be approved. `round` counts the
    submissions (a rejection or a new version starts a new round)."""

    event_type = "ApprovalRouted"
    round: int = Field(ge=1)
    version_number: int = Field(ge=1, description="the contract version being approved")
    matrix_id: UUID
    matrix_version: int = Field(ge=1)
    steps: list[RoutedStep]
    by: str
    at: dt.datetime


class ApprovalStepOpened(_ApprovalEvent):
    """A step is waiting for its approvers; its SLA runs from `opened_at`. The scheduler warns at
    `at_risk_at` and escalates at `due_at`."""

    event_type = "ApprovalStepOpened"
    step_id: UUID
    round: int = Field(ge=1)
    level: int = Field(0, ge=0, description="0: the step's own approvers; n: the n-th escalation level")
    approvers: list[Approver]
    opened_at: dt.datetime
    at_risk_at: dt.datetime
    due_at: dt.datetime


class ApprovalGranted(_ApprovalEvent):
    """An approver of the step granted it (with an optional comment); the step closes."""

    event_type = "ApprovalGranted"
    step_id: UUID
    by: str
    roles: list[str] = Field(description="the approver's roles when approving")
    comment: str = Field("", max_length=4000)
    at: dt.datetime


class ApprovalRejected(_ApprovalEvent):
    """An approver rejected: the round ends, its open steps close and the request goes back to
    negotiation (work_in_progress)."""

    event_type = "ApprovalRejected"
    step_id: UUID
    by: str
    roles: list[str]
    comment: str = Field(min_length=1, max_length=4000)
    closed_step_ids: list[UUID] = Field(description="every step of the round still open, this one included")
    at: dt.datetime


class ApprovalAtRisk(_ApprovalEvent):
    """The step is still open at the warning point of its SLA (e.g. 75 %)."""

    event_type = "ApprovalAtRisk"
    step_id: UUID
    level: int = Field(ge=0)
    due_at: dt.datetime
    at: dt.datetime


class ApprovalEscalated(_ApprovalEvent):
    """The step's deadline passed: it went to the next level of its escalation path, with a new
    SLA (the ApprovalStepOpened that follows carries its times)."""

    event_type = "ApprovalEscalated"
    step_id: UUID
    from_level: int = Field(ge=0)
    to_level: int = Field(ge=1)
    approvers: list[Approver]
    at: dt.datetime


class ApprovalCompleted(_ApprovalEvent):
    """Every step of the round is granted: `version_number` is the approved version, the one a
    signature envelope may be sent for."""

    event_type = "ApprovalCompleted"
    round: int = Field(ge=1)
    version_number: int = Field(ge=1)
    at: dt.datetime


class ApprovalsInvalidated(_ApprovalEvent):
    """A new version was added after approvals were given: they no longer count; the contract
    needs approving again. `closed_step_ids`: the round's steps still open."""

    event_type = "ApprovalsInvalidated"
    round: int = Field(ge=1)
    version_number: int = Field(ge=1, description="the new version that invalidated them")
    reason: str
    closed_step_ids: list[UUID] = Field(default_factory=list)
    by: str
    at: dt.datetime
