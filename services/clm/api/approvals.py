"""REST resources of a contract's approvals (phase 4): submit for approval, the route and its
steps, approve or reject a step; and the approvers' queue, /api/v1/approvals.

Every change answers with the contract's approvals and its version (also as ETag); send
`If-Match: <version>` to refuse it with 409 if the contract moved on. Who may decide a step is the
domain's rule (403 approval.role_not_allowed, approval.own_request, approval.not_an_approver), so
the decision routes admit every role and the body names the rule that refused."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Cursor, IfMatch, Limit, Page, expected_version, page_of, with_version
from shared.events.approvals import Approver
from shared.events.contracts import RequestState
from services.clm.application import approvals as use_cases
from services.clm.domain.contract import Contract
from services.clm.domain.contract.approval import StepState

router = APIRouter(prefix="/contracts", tags=["approvals"])
queue_router = APIRouter(prefix="/approvals", tags=["approvals"])

# RACI phase 4: Sales responsible, Legal accountable; the contract manager runs the process.
may_submit = require_roles(Role.SALES, Role.LEGAL_COUNSEL, Role.CONTRACT_MANAGER)


class Submission(BaseModel):
    matrix_id: UUID | None = Field(None, description="the standard matrix when left out")
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class Decision(BaseModel):
    comment: str = Field("", max_length=4000, description="required to reject")
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class EscalationView(BaseModel):
    from_level: int
    to_level: int
    approvers: list[Approver]
    at: dt.datetime


class StepView(BaseModel):
    step_id: UUID
    name: str
    sequence: int
    state: Literal["pending", "open", "granted", "rejected", "closed"]
    level: int = Field(description="0: the step's own approvers; n: its n-th escalation level")
    approvers: list[Approver] = Field(description="who may decide it now (the current level's)")
    informed_roles: list[str] = Field(description="told of the outcome, never asked")
    sla: str
    rule_ids: list[str]
    opened_at: dt.datetime | None
    at_risk_at: dt.datetime | None
    due_at: dt.datetime | None
    at_risk: bool = Field(description="warned at the current level")
    overdue: bool = Field(description="open past its deadline at the last level of its escalation path")
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str
    escalations: list[EscalationView]

    @classmethod
    def of(cls, s: StepState, now: dt.datetime) -> "StepView":
        r = s.routed
        return cls(step_id=r.step_id, name=r.name, sequence=r.sequence, state=s.state, level=s.level,
                   approvers=s.approvers or r.approvers, informed_roles=r.informed_roles, sla=r.sla,
                   rule_ids=r.rule_ids, opened_at=s.opened_at, at_risk_at=s.at_risk_at, due_at=s.due_at,
                   at_risk=s.at_risk, overdue=s.state == "open" and s.due_at is not None and s.due_at <= now,
                   decided_by=s.decided_by, decided_at=s.decided_at, comment=s.comment,
                   escalations=[EscalationView(from_level=e.from_level, to_level=e.to_level, approvers=e.approvers,
                                               at=e.at) for e in s.escalations])


class InvalidationView(BaseModel):
    round: int
    version_number: int = Field(description="the new version that invalidated the approvals")
    reason: str
    by: str
    at: dt.datetime


class ApprovalsView(BaseModel):
    contract_id: UUID
    request_state: RequestState
    approved_version: int | None = Field(description="the version an envelope may be sent for")
    round: int | None = Field(description="the current or last submission; none before the first")
    version_number: int | None = Field(description="the contract version the round approves")
    matrix_id: UUID | None
    matrix_version: int | None
    submitted_by: str | None
    submitted_at: dt.datetime | None
    round_open: bool
    steps: list[StepView]
    invalidations: list[InvalidationView]
    version: int

    @classmethod
    def of(cls, c: Contract, now: dt.datetime) -> "ApprovalsView":
        r = c.route
        return cls(contract_id=c.contract_uuid, request_state=c.request_state, approved_version=c.approved_version,
                   round=r.round if r else None, version_number=r.version_number if r else None,
                   matrix_id=r.matrix_id if r else None, matrix_version=r.matrix_version if r else None,
                   submitted_by=r.by if r else None, submitted_at=r.at if r else None, round_open=c.round_open,
                   steps=[StepView.of(s, now) for s in c.steps.values()],
                   invalidations=[InvalidationView(round=i.round, version_number=i.version_number, reason=i.reason,
                                                   by=i.by, at=i.at) for i in c.invalidations],
                   version=c.version)


class PendingStep(BaseModel):
    step_id: UUID
    contract_id: UUID
    number: str
    title: str
    name: str
    round: int
    level: int
    approvers: list[str] = Field(description="role:<role> or user:<subject>")
    opened_at: dt.datetime
    due_at: dt.datetime
    at_risk: bool


def _answer(response: Response, contract: Contract, ctx: ServiceContext) -> ApprovalsView:
    with_version(response, contract.version)
    return ApprovalsView.of(contract, ctx.clock.now())


@router.post("/{contract_id}/approval/submit", response_model=ApprovalsView)
async def submit(contract_id: UUID, response: Response, principal: Annotated[Principal, Depends(may_submit)],
                 ctx: Annotated[ServiceContext, Depends(context)], body: Submission | None = None,
                 if_match: IfMatch = None) -> ApprovalsView:
    """work_in_progress or awaiting_review -> awaiting_approval: routes the current version through
    the matrix and opens the steps of its lowest sequence."""
    body = body or Submission()
    contract = await use_cases.submit_for_approval(
        ctx.uow(principal), contract_id, matrix_id=body.matrix_id, by=principal.subject, at=ctx.clock.now(),
        at_risk_fraction=ctx.settings.approval_at_risk_fraction,
        expected_version=expected_version(if_match, body.expected_version))
    return _answer(response, contract, ctx)


@router.get("/{contract_id}/approvals", response_model=ApprovalsView, dependencies=[Depends(any_role)])
async def get_approvals(contract_id: UUID, response: Response,
                        ctx: Annotated[ServiceContext, Depends(context)]) -> ApprovalsView:
    """The route of the current (or last) round: each step, who may decide it, who did and when."""
    return _answer(response, await use_cases.get_approvals(ctx.uow(), contract_id), ctx)


async def _decide(grant: bool, contract_id: UUID, step_id: UUID, body: Decision | None, if_match: str | None,
                  principal: Principal, ctx: ServiceContext, response: Response) -> ApprovalsView:
    body = body or Decision()
    contract = await use_cases.decide(
        ctx.uow(principal), contract_id, step_id, grant=grant, by=principal.subject, roles=principal.roles,
        comment=body.comment, at=ctx.clock.now(), at_risk_fraction=ctx.settings.approval_at_risk_fraction,
        expected_version=expected_version(if_match, body.expected_version))
    return _answer(response, contract, ctx)


@router.post("/{contract_id}/approvals/{step_id}/approve", response_model=ApprovalsView)
async def approve(contract_id: UUID, step_id: UUID, response: Response,
                  principal: Annotated[Principal, Depends(any_role)], ctx: Annotated[ServiceContext, Depends(context)],
                  body: Decision | None = None, if_match: IfMatch = None) -> ApprovalsView:
    """Grants the step (by an approver of its current level); the last grant approves the version
    and moves the request to awaiting_signature."""
    return await _decide(True, contract_id, step_id, body, if_match, principal, ctx, response)


@router.post("/{contract_id}/approvals/{step_id}/reject", response_model=ApprovalsView)
async def reject(contract_id: UUID, step_id: UUID, response: Response,
                 principal: Annotated[Principal, Depends(any_role)], ctx: Annotated[ServiceContext, Depends(context)],
                 body: Decision | None = None, if_match: IfMatch = None) -> ApprovalsView:
    """Rejects with a comment: the round ends and the request goes back to work_in_progress."""
    return await _decide(False, contract_id, step_id, body, if_match, principal, ctx, response)


@queue_router.get("", response_model=Page[PendingStep])
async def pending(principal: Annotated[Principal, Depends(any_role)], ctx: Annotated[ServiceContext, Depends(context)],
                  role: Annotated[Role | None, Query(description="only steps this role approves")] = None,
                  cursor: Cursor = None, limit: Limit = 50) -> dict:
    """The caller's queue: open steps naming them or one of their approving roles (or only `role`),
    never of requests they made or submitted."""
    rows = await use_cases.pending_for(ctx.uow(principal), subject=principal.subject, roles=principal.roles,
                                       role=role, after=cursor, limit=limit)
    return page_of(rows, limit, key=lambda r: r["step_id"])
