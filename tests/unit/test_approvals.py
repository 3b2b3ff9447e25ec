"""Internal approvals on the aggregates alone (domain/approval_matrix.py, domain/contract/approval.py):
which steps a deal gets, parallel groups and sequences, who may decide, SLA times and escalation,
invalidation by a new version."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import RuleKind
from shared.events.approvals import (
    ApprovalAtRisk, ApprovalCompleted, ApprovalEscalated, ApprovalGranted, ApprovalRejected, ApprovalRouted,
    ApprovalRule, ApprovalsInvalidated, ApprovalStepOpened, ApprovalStepSpec, Approver,
)
from shared.events.contracts import ContractRequestStateChanged
from shared.events.negotiation import NegotiatedTerms
from services.clm.domain import rules
from services.clm.domain.approval_matrix import STANDARD_MATRIX_ID, ApprovalMatrix, standard_matrix
from services.clm.domain.contract import Contract
from tests.unit.test_drafting_and_negotiation import AT, CONFIDENTIALITY, LIABILITY, clause, drafted, refusal, upload

LEGAL = frozenset({"legal_counsel"})
FINANCE = frozenset({"finance"})
LEADERSHIP = frozenset({"sales_leadership"})
MATRIX = standard_matrix(AT)


def submitted(contract: Contract | None = None, matrix: ApprovalMatrix = MATRIX, **deal) -> Contract:
    contract = contract or drafted(**deal)
    contract.submit_for_approval(matrix, by="cm-carla", at=AT)
    return contract


def events_of(contract: Contract, kind) -> list:
    return [e for e in contract.pending_events if isinstance(e, kind)]


def step_named(contract: Contract, name: str) -> uuid.UUID:
    return next(s.routed.step_id for s in contract.steps.values() if s.routed.name == name)


def test_a_small_standard_deal_needs_legal_review_only():
    contract = submitted()
    routed, = events_of(contract, ApprovalRouted)
    assert [s.name for s in routed.steps] == ["Legal review"]
    assert (routed.round, routed.version_number, routed.matrix_id, routed.matrix_version) == (1, 1, STANDARD_MATRIX_ID, 1)
    assert routed.steps[0].step_id == uuid.uuid5(contract.contract_uuid, "1/1")
    assert contract.request_state == "awaiting_approval"


def test_a_large_deal_adds_finance_in_parallel_and_high_risk_a_later_leadership_step():
    contract = submitted(deal_size=Decimal("300000"), risk_tier="high")
    routed, = events_of(contract, ApprovalRouted)
    assert [(s.name, s.sequence, s.rule_ids) for s in routed.steps] == [
        ("Legal review", 1, ["legal"]), ("Finance review", 1, ["large-or-discounted"]),
        ("Sales leadership sign-off", 2, ["high-risk"])]
    opened = events_of(contract, ApprovalStepOpened)
    assert {o.step_id for o in opened} == {routed.steps[0].step_id, routed.steps[1].step_id}  # sequence 1 together


def test_the_next_sequence_opens_when_the_whole_group_is_granted_then_completion_moves_to_signature():
    contract = submitted(deal_size=Decimal("300000"), risk_tier="high")
    contract.mark_persisted()
    contract.approve(step_named(contract, "Legal review"), by="counsel-lena", roles=LEGAL, comment="", at=AT)
    assert not events_of(contract, ApprovalStepOpened)  # finance still open
    contract.approve(step_named(contract, "Finance review"), by="fin-fred", roles=FINANCE, comment="ok", at=AT)
    opened, = events_of(contract, ApprovalStepOpened)
    assert opened.step_id == step_named(contract, "Sales leadership sign-off")
    contract.mark_persisted()
    contract.approve(opened.step_id, by="vp-vera", roles=LEADERSHIP, comment="", at=AT)
    granted, completed, moved = contract.pending_events
    assert isinstance(granted, ApprovalGranted) and isinstance(completed, ApprovalCompleted)
    assert (completed.version_number, moved.to_state) == (1, "awaiting_signature")
    assert contract.approved_version == 1


def test_sla_times_follow_the_steps_duration_and_the_at_risk_share():
    contract = drafted()
    contract.submit_for_approval(MATRIX, by="cm-carla", at=AT, at_risk_fraction=0.5)
    opened, = events_of(contract, ApprovalStepOpened)
    assert (opened.opened_at, opened.at_risk_at, opened.due_at) == (AT, AT + dt.timedelta(days=1), AT + dt.timedelta(days=2))
    default = submitted()
    assert events_of(default, ApprovalStepOpened)[0].at_risk_at == AT + dt.timedelta(hours=36)  # 75 % of P2D


@pytest.mark.parametrize("roles,by,rule,kind", [
    (frozenset({"sales"}), "sales-bob", rules.APPROVAL_ROLE_NOT_ALLOWED, RuleKind.FORBIDDEN),
    (frozenset({"sales_ops"}), "ops-olga", rules.APPROVAL_ROLE_NOT_ALLOWED, RuleKind.FORBIDDEN),
    (frozenset({"contract_manager"}), "cm-chris", rules.APPROVAL_ROLE_NOT_ALLOWED, RuleKind.FORBIDDEN),
    (FINANCE, "fin-fred", rules.APPROVAL_NOT_AN_APPROVER, RuleKind.FORBIDDEN),  # legal's step
    (LEGAL, "sales-ann", rules.APPROVAL_OWN_REQUEST, RuleKind.FORBIDDEN),  # requested it
    (LEGAL, "cm-carla", rules.APPROVAL_OWN_REQUEST, RuleKind.FORBIDDEN),  # submitted it
])
def test_who_may_not_approve(roles, by, rule, kind):
    contract = submitted()
    contract.mark_persisted()
    error = refusal(lambda: contract.approve(step_named(contract, "Legal review"), by=by, roles=roles, comment="", at=AT))
    assert (error.rule, error.kind) == (rule, kind)
    assert not contract.pending_events


def test_a_named_user_approves_and_a_closed_step_is_a_conflict():
    matrix = ApprovalMatrix.create(uuid.uuid4(), name="Named", by="cm", at=AT, rules_=[ApprovalRule(
        rule_id="gc", name="General counsel", condition="", steps=[ApprovalStepSpec(
            name="GC", sequence=1, approvers=[Approver(kind="user", value="gc-gina")], sla="PT8H")])])
    contract = submitted(matrix=matrix)
    step = step_named(contract, "GC")
    assert refusal(lambda: contract.approve(step, by="counsel-lena", roles=LEGAL, comment="", at=AT)).rule == \
        rules.APPROVAL_NOT_AN_APPROVER
    contract.approve(step, by="gc-gina", roles=LEGAL, comment="", at=AT)
    error = refusal(lambda: contract.approve(step, by="gc-gina", roles=LEGAL, comment="", at=AT))
    assert (error.rule, error.kind) == (rules.APPROVAL_STEP_CLOSED, RuleKind.CONFLICT)


def test_rejection_needs_a_comment_closes_the_round_and_returns_to_negotiation():
    contract = submitted(deal_size=Decimal("300000"))
    contract.mark_persisted()
    legal = step_named(contract, "Legal review")
    assert refusal(lambda: contract.reject(legal, by="counsel-lena", roles=LEGAL, comment=" ", at=AT)).rule == \
        rules.APPROVAL_REJECT_COMMENT_REQUIRED
    contract.reject(legal, by="counsel-lena", roles=LEGAL, comment="cap too high", at=AT)
    rejected, moved = contract.pending_events
    assert isinstance(rejected, ApprovalRejected) and set(rejected.closed_step_ids) == set(contract.steps)
    assert moved.to_state == "work_in_progress"
    resubmitted = submitted(contract)
    assert events_of(resubmitted, ApprovalRouted)[-1].round == 2
    assert step_named(resubmitted, "Legal review") == uuid.uuid5(contract.contract_uuid, "2/1")


def test_at_risk_once_and_escalation_to_the_next_level_with_a_fresh_sla():
    contract = submitted()
    contract.mark_persisted()
    step = step_named(contract, "Legal review")
    later = AT + dt.timedelta(hours=36)
    contract.step_at_risk(step, level=0, at=later)
    contract.step_at_risk(step, level=0, at=later)  # redelivered
    assert len(events_of(contract, ApprovalAtRisk)) == 1
    contract.mark_persisted()
    due = AT + dt.timedelta(days=2)
    contract.step_deadline_reached(step, level=0, at=due)
    contract.step_deadline_reached(step, level=0, at=due)  # redelivered: level 0 is over
    escalated, opened = contract.pending_events
    assert isinstance(escalated, ApprovalEscalated) and (escalated.from_level, escalated.to_level) == (0, 1)
    assert [a.value for a in opened.approvers] == ["sales_leadership"]
    assert (opened.level, opened.opened_at, opened.at_risk_at, opened.due_at) == (
        1, due, due + dt.timedelta(hours=36), due + dt.timedelta(days=2))
    contract.mark_persisted()
    assert refusal(lambda: contract.approve(step, by="counsel-lena", roles=LEGAL, comment="", at=due)).rule == \
        rules.APPROVAL_NOT_AN_APPROVER  # the step is leadership's now
    contract.step_deadline_reached(step, level=1, at=due + dt.timedelta(days=2))  # the last level: stays open
    assert not contract.pending_events and contract.steps[step].state == "open"
    contract.approve(step, by="vp-vera", roles=LEADERSHIP, comment="", at=due)
    assert contract.approved_version == 1


def test_a_new_version_after_a_grant_invalidates_and_returns_to_work():
    contract = submitted(deal_size=Decimal("300000"))
    contract.approve(step_named(contract, "Legal review"), by="counsel-lena", roles=LEGAL, comment="", at=AT)
    contract.mark_persisted()
    events = upload(contract, clause("1", LIABILITY), clause("2", CONFIDENTIALITY))
    invalidated, moved = events[0], events[1]
    assert isinstance(invalidated, ApprovalsInvalidated) and invalidated.version_number == 2
    assert invalidated.closed_step_ids == [step_named(contract, "Finance review")]
    assert "version 2" in invalidated.reason
    assert isinstance(moved, ContractRequestStateChanged) and moved.to_state == "work_in_progress"
    assert contract.versions[-1].version_number == 2 and contract.request_state == "work_in_progress"


def test_a_new_version_after_completion_invalidates_the_approved_version():
    contract = submitted()
    contract.approve(step_named(contract, "Legal review"), by="counsel-lena", roles=LEGAL, comment="", at=AT)
    assert contract.request_state == "awaiting_signature"
    upload(contract, clause("1", LIABILITY))
    assert contract.approved_version is None and contract.invalidations[-1].closed_step_ids == []


def test_terms_are_not_recorded_beside_the_version_being_approved():
    contract = submitted()
    error = refusal(lambda: contract.record_terms(NegotiatedTerms(payment_days=60), by="sales-ann", at=AT))
    assert (error.rule, error.kind) == (rules.APPROVAL_TERMS_FIXED, RuleKind.CONFLICT)


def test_submission_only_from_work_or_review_once_drafted():
    contract = submitted()
    assert refusal(lambda: contract.submit_for_approval(MATRIX, by="cm-carla", at=AT)).rule == \
        rules.APPROVAL_SUBMIT_ONLY_IN_NEGOTIATION


@pytest.mark.parametrize("condition,needle", [
    ("deal_size >", "does not parse"), ("budget > 10.0", "budget"), ('risk_tier > 3', "fails"),
])
def test_a_matrix_condition_that_does_not_compile_is_refused_naming_the_rule(condition, needle):
    bad = ApprovalRule(rule_id="bad-one", name="Bad", condition=condition, steps=MATRIX.latest.rules[0].steps)
    error = refusal(lambda: ApprovalMatrix.create(uuid.uuid4(), name="M", rules_=[bad], by="cm", at=AT))
    assert (error.rule, error.field, error.extra["rule_id"]) == (rules.APPROVAL_CONDITION_INVALID, "rules[0].condition", "bad-one")
    assert needle in error.message


@pytest.mark.parametrize("sla", ["2 days", "P1M", "PT0S", "P"])
def test_an_sla_is_an_iso_duration(sla):
    step = ApprovalStepSpec(name="S", sequence=1, approvers=[Approver(kind="role", value="finance")], sla=sla)
    error = refusal(lambda: ApprovalMatrix.create(uuid.uuid4(), name="M", by="cm", at=AT, rules_=[
        ApprovalRule(rule_id="r", name="R", condition="", steps=[step])]))
    assert (error.rule, error.field) == (rules.APPROVAL_SLA_INVALID, "rules[0].steps[0].sla")


def test_a_matrix_naming_sales_as_approver_is_refused():
    step = ApprovalStepSpec(name="S", sequence=1, approvers=[Approver(kind="role", value="sales")], sla="P1D")
    error = refusal(lambda: ApprovalMatrix.create(uuid.uuid4(), name="M", by="cm", at=AT, rules_=[
        ApprovalRule(rule_id="r", name="R", condition="", steps=[step])]))
    assert error.rule == rules.APPROVAL_APPROVER_ROLE_NOT_ALLOWED


def test_non_standard_clauses_and_deviations_are_routing_fields():
    matrix = ApprovalMatrix.create(uuid.uuid4(), name="M", by="cm", at=AT, rules_=[
        *MATRIX.latest.rules[:1],
        ApprovalRule(rule_id="clauses", name="Non-standard clauses", condition="non_standard_clauses > 0", steps=[
            ApprovalStepSpec(name="Finance review", sequence=1, approvers=[Approver(kind="role", value="finance")],
                             sla="P1D")])])
    contract = drafted()
    upload(contract, clause("1", LIABILITY), clause("9", None, match="non_standard", score=0.2))
    assert contract.approval_fields()["non_standard_clauses"] == 1 and contract.approval_fields()["open_deviations"] == 1
    contract.submit_for_approval(matrix, by="cm-carla", at=AT)
    assert [s.routed.name for s in contract.steps.values()] == ["Legal review", "Finance review"]


def test_when_no_rule_matches_legal_review_still_applies():
    matrix = ApprovalMatrix.create(uuid.uuid4(), name="M", by="cm", at=AT, rules_=[
        ApprovalRule(rule_id="huge", name="Huge", condition="deal_size > 1000000000.0", steps=MATRIX.latest.rules[1].steps)])
    contract = submitted(matrix=matrix)
    [step] = contract.steps.values()
    assert (step.routed.name, step.routed.rule_ids, step.state) == ("Legal review", ["default"], "open")
