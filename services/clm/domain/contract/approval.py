"""Internal approvals (phase 4): routing a version through the approval matrix's steps, grants
and rejections, SLA warnings and escalation, invalidation by a new version.
docs/design/approvals_and_signature.md, "Approvals"; docs/contracting/approvals.md.

A round is one submission: its steps open sequence by sequence (equal sequences in parallel), and
it ends completed (every step granted), rejected, or invalidated by a new version.

The interface the next phases read: `approved_version` (the version an envelope may be sent for,
None while nothing is approved)."""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from shared.backbone.aggregate import applies
from shared.backbone.errors import ConflictingState, Forbidden, NotFound, invalid
from shared.events.approvals import (
    ApprovalAtRisk, ApprovalCompleted, ApprovalEscalated, ApprovalGranted, ApprovalRejected, ApprovalRouted,
    ApprovalsInvalidated, ApprovalStepOpened, Approver, RoutedStep,
)
from shared.events.negotiation import ContractVersionAdded
from services.clm.domain import rules
from services.clm.domain.approval_matrix import ApprovalMatrix, sla_of
from services.clm.domain.contract.drafting import Drafting
from services.clm.domain.contract.intake import RequestState as S

SUBMITTABLE = frozenset({S.WORK_IN_PROGRESS, S.AWAITING_REVIEW})
# A new version here invalidates the approvals and takes the request back to work in progress.
IN_APPROVAL_OR_SIGNATURE = frozenset({S.AWAITING_APPROVAL, S.AWAITING_SIGNATURE})


def approver_keys(subject: str, roles: frozenset[str]) -> frozenset[str]:
    """How a caller is named in a step's approvers: `user:<sub>` and `role:<role>` of each role."""
    return frozenset({f"user:{subject}", *(f"role:{r}" for r in roles)})


def key_of(approver: Approver) -> str:
    return f"{approver.kind}:{approver.value}"


@dataclass
class StepState:
    """A routed step as its events left it; `state` pending (a later sequence), open, granted,
    rejected or closed (its round ended otherwise)."""

    routed: RoutedStep
    state: str = "pending"
    level: int = 0
    approvers: list[Approver] = field(default_factory=list)
    opened_at: dt.datetime | None = None
    at_risk_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    at_risk: bool = False  # warned at the current level
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    comment: str = ""
    escalations: list[ApprovalEscalated] = field(default_factory=list)


class Approving(Drafting):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.approved_version: int | None = None
        self.route: ApprovalRouted | None = None  # the current (or last) round
        self.round_open = False
        self.steps: dict[uuid.UUID, StepState] = {}  # the current round's, in route order
        self.invalidations: list[ApprovalsInvalidated] = []

    # -- submitting --------------------------------------------------------------------------------

    def approval_fields(self) -> dict[str, object]:
        """What the matrix's conditions read."""
        deal = self.request_terms.deal
        current = self.current_version
        return {
            "deal_size": deal.deal_size, "max_discount_percent": deal.max_discount_percent,
            "risk_tier": deal.risk_tier, "region": deal.region, "classification": self.classification,
            "open_deviations": len(self.open_deviations),
            "non_standard_clauses": sum(c.match == "non_standard" for c in current.clauses) if current else 0,
        }

    def submit_for_approval(self, matrix: ApprovalMatrix, *, by: str, at: dt.datetime,
                            at_risk_fraction: float = rules.APPROVAL_AT_RISK_FRACTION) -> None:
        state = self._require_request()
        if not self.versions:
            raise ConflictingState(rules.APPROVAL_NOT_DRAFTED, "a contract is approved once drafted", field="contract_id")
        if state not in SUBMITTABLE:
            raise ConflictingState(rules.APPROVAL_SUBMIT_ONLY_IN_NEGOTIATION,
                                   f"a request is submitted for approval from work_in_progress or awaiting_review, "
                                   f"not {state}", field="state")
        round_ = (self.route.round if self.route else 0) + 1
        steps = [RoutedStep(step_id=uuid.uuid5(self.contract_uuid, f"{round_}/{n}"), name=s.spec.name,
                            sequence=s.spec.sequence, approvers=s.spec.approvers, informed_roles=s.spec.informed_roles,
                            sla=s.spec.sla, escalation=s.spec.escalation, rule_ids=list(s.rule_ids))
                 for n, s in enumerate(matrix.route(self.approval_fields()), start=1)]
        self._move(S.AWAITING_APPROVAL, by, at, rules.APPROVAL_SUBMIT_ONLY_IN_NEGOTIATION)
        self.record(ApprovalRouted(contract_id=self.contract_uuid, round=round_,
                                   version_number=self.current_version.version_number, matrix_id=uuid.UUID(matrix.id),
                                   matrix_version=matrix.latest.version, steps=steps, by=by, at=at))
        self._open_next(by=by, at=at, fraction=at_risk_fraction)

    def _open_next(self, *, by: str, at: dt.datetime, fraction: float) -> None:
        """Opens the lowest sequence still pending, or completes the round when none is left."""
        pending = [s for s in self.steps.values() if s.state == "pending"]
        if not pending:
            self.record(ApprovalCompleted(contract_id=self.contract_uuid, round=self.route.round,
                                          version_number=self.route.version_number, at=at))
            self._move(S.AWAITING_SIGNATURE, by, at, rules.REQUEST_TRANSITION_NOT_ALLOWED)
            return
        sequence = min(s.routed.sequence for s in pending)
        for step in pending:
            if step.routed.sequence == sequence:
                self._open_step(step, level=0, approvers=step.routed.approvers, at=at, fraction=fraction)

    def _open_step(self, step: StepState, *, level: int, approvers: list[Approver], at: dt.datetime, fraction: float) -> None:
        sla = sla_of(step.routed.sla)
        self.record(ApprovalStepOpened(contract_id=self.contract_uuid, step_id=step.routed.step_id,
                                       round=self.route.round, level=level, approvers=approvers, opened_at=at,
                                       at_risk_at=at + sla * fraction, due_at=at + sla))

    # -- deciding ----------------------------------------------------------------------------------

    def approve(self, step_id: uuid.UUID, *, by: str, roles: frozenset[str], comment: str, at: dt.datetime,
                at_risk_fraction: float = rules.APPROVAL_AT_RISK_FRACTION) -> None:
        step = self._decidable(step_id, by, roles)
        self.record(ApprovalGranted(contract_id=self.contract_uuid, step_id=step_id, by=by, roles=sorted(roles),
                                    comment=comment.strip(), at=at))
        sequence = step.routed.sequence
        if all(s.state == "granted" for s in self.steps.values() if s.routed.sequence == sequence):
            self._open_next(by=by, at=at, fraction=at_risk_fraction)

    def reject(self, step_id: uuid.UUID, *, by: str, roles: frozenset[str], comment: str, at: dt.datetime) -> None:
        if not comment.strip():
            raise invalid(rules.APPROVAL_REJECT_COMMENT_REQUIRED, "a rejection says why in its comment", field="comment")
        self._decidable(step_id, by, roles)
        still_open = [s.routed.step_id for s in self.steps.values() if s.state == "open"]
        self.record(ApprovalRejected(contract_id=self.contract_uuid, step_id=step_id, by=by, roles=sorted(roles),
                                     comment=comment.strip(), closed_step_ids=still_open, at=at))
        self._move(S.WORK_IN_PROGRESS, by, at, rules.REQUEST_TRANSITION_NOT_ALLOWED, reason=comment.strip())

    def _decidable(self, step_id: uuid.UUID, by: str, roles: frozenset[str]) -> StepState:
        step = self.steps.get(step_id)
        if step is None:
            raise NotFound("approval_step", step_id, field="step_id")
        if not roles & rules.APPROVING_ROLES:
            raise Forbidden(rules.APPROVAL_ROLE_NOT_ALLOWED,
                            f"only {', '.join(sorted(rules.APPROVING_ROLES))} approve (phase 4's RACI)", field="roles")
        if step.state != "open" or not self.round_open:
            raise ConflictingState(rules.APPROVAL_STEP_CLOSED, f"step {step.routed.name} is {step.state}, not open",
                                   field="step_id", step_state=step.state)
        if by in (self.requested.requested_by, self.route.by):
            raise Forbidden(rules.APPROVAL_OWN_REQUEST, "nobody approves a request they made or submitted", field="by")
        if not approver_keys(by, roles) & {key_of(a) for a in step.approvers}:
            raise Forbidden(rules.APPROVAL_NOT_AN_APPROVER,
                            f"{by} is not an approver of step {step.routed.name} at level {step.level}",
                            field="step_id", approvers=[key_of(a) for a in step.approvers])
        return step

    # -- the scheduler's SLA events ------------------------------------------------------------------

    def _open_at(self, step_id: uuid.UUID, level: int) -> StepState | None:
        step = self.steps.get(step_id)
        if step is None or step.state != "open" or step.level != level or self.request_state is not S.AWAITING_APPROVAL:
            return None
        return step

    def step_at_risk(self, step_id: uuid.UUID, *, level: int, at: dt.datetime) -> None:
        """Warns once, if the step is still open at that level (else the warning came too late: nothing)."""
        step = self._open_at(step_id, level)
        if step is not None and not step.at_risk:
            self.record(ApprovalAtRisk(contract_id=self.contract_uuid, step_id=step_id, level=level,
                                       due_at=step.due_at, at=at))

    def step_deadline_reached(self, step_id: uuid.UUID, *, level: int, at: dt.datetime) -> None:
        """To the next level of the escalation path, with a fresh SLA (the same at-risk share as the
        step's opening). At the last level the step stays open, overdue (GET shows it)."""
        step = self._open_at(step_id, level)
        if step is None or level >= len(step.routed.escalation):
            return
        approvers = step.routed.escalation[level]
        fraction = (step.at_risk_at - step.opened_at) / (step.due_at - step.opened_at)
        self.record(ApprovalEscalated(contract_id=self.contract_uuid, step_id=step_id, from_level=level,
                                      to_level=level + 1, approvers=approvers, at=at))
        self._open_step(step, level=level + 1, approvers=approvers, at=at, fraction=fraction)

    # -- a new version -----------------------------------------------------------------------------

    def check_can_add_version(self) -> None:
        if self.versions and self.request_state in IN_APPROVAL_OR_SIGNATURE:
            return  # allowed: it invalidates the approvals and takes the request back to work
        super().check_can_add_version()

    def add_version(self, *, origin, author: str, at: dt.datetime, **kwargs) -> ContractVersionAdded:
        self.check_can_add_version()
        number = len(self.versions) + 1
        self._invalidate(reason=f"version {number} was added ({origin}) after the approvals", version_number=number,
                         by=author, at=at)
        return super().add_version(origin=origin, author=author, at=at, **kwargs)

    def record_terms(self, terms, *, by: str, at: dt.datetime) -> None:
        if self.request_state in IN_APPROVAL_OR_SIGNATURE:
            raise ConflictingState(rules.APPROVAL_TERMS_FIXED,
                                   f"the request is {self.request_state}: terms change by a new version, which "
                                   "invalidates the approvals", field="state")
        super().record_terms(terms, by=by, at=at)

    def _invalidate(self, *, reason: str, version_number: int, by: str, at: dt.datetime) -> None:
        granted = any(s.state == "granted" for s in self.steps.values()) if self.round_open else False
        open_ids = [s.routed.step_id for s in self.steps.values() if s.state == "open"] if self.round_open else []
        if self.approved_version is not None or granted or open_ids:
            self.record(ApprovalsInvalidated(contract_id=self.contract_uuid, round=self.route.round,
                                             version_number=version_number, reason=reason, closed_step_ids=open_ids,
                                             by=by, at=at))
        if self.request_state in IN_APPROVAL_OR_SIGNATURE:
            self._move(S.WORK_IN_PROGRESS, by, at, rules.REQUEST_TRANSITION_NOT_ALLOWED, reason=reason)

    # -- what the events say -------------------------------------------------------------------------

    @applies
    def _on_routed(self, event: ApprovalRouted) -> None:
        self.route = event
        self.round_open = True
        self.approved_version = None  # a new round approves afresh
        self.steps = {s.step_id: StepState(routed=s) for s in event.steps}

    @applies
    def _on_step_opened(self, event: ApprovalStepOpened) -> None:
        step = self.steps[event.step_id]
        step.state, step.level, step.approvers, step.at_risk = "open", event.level, event.approvers, False
        step.opened_at, step.at_risk_at, step.due_at = event.opened_at, event.at_risk_at, event.due_at

    @applies
    def _on_granted(self, event: ApprovalGranted) -> None:
        step = self.steps[event.step_id]
        step.state, step.decided_by, step.decided_at, step.comment = "granted", event.by, event.at, event.comment

    @applies
    def _on_at_risk(self, event: ApprovalAtRisk) -> None:
        self.steps[event.step_id].at_risk = True

    @applies
    def _on_escalated(self, event: ApprovalEscalated) -> None:
        self.steps[event.step_id].escalations.append(event)

    @applies
    def _on_approval_completed(self, event: ApprovalCompleted) -> None:
        self.approved_version = event.version_number
        self.round_open = False

    @applies
    def _on_approvals_invalidated(self, event: ApprovalsInvalidated) -> None:
        self.approved_version = None
        self.invalidations.append(event)
        self._close_round()

    @applies
    def _on_approval_rejected(self, event: ApprovalRejected) -> None:
        self.approved_version = None
        step = self.steps[event.step_id]
        step.decided_by, step.decided_at, step.comment = event.by, event.at, event.comment
        self._close_round()
        step.state = "rejected"

    def _close_round(self) -> None:
        self.round_open = False
        for step in self.steps.values():
            if step.state in ("open", "pending"):
                step.state = "closed"
