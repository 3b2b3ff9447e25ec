"""The approval matrix (stream type `approval_matrix`): versions of rules that a contract
manager publishes; each rule's CEL condition over the deal's approval fields says whether its
steps apply (docs/design/approvals_and_signature.md, "Approvals").

`route` resolves the steps one version asks for a deal: the steps of every matching rule, one
step per name (a name asked for by two rules is one step, naming both rules), ordered by
sequence. A contract pins the matrix id and version it was routed with."""

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Mapping, Self

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState, NotFound, invalid
from shared.events.approvals import Approver, ApprovalMatrixPublished, ApprovalRule, ApprovalStepSpec
from services.clm.domain import rules
from services.clm.domain.library.conditions import (
    ConditionFailed, ConditionInvalid, compile_condition_over,
)

# What a matrix condition may name, with its CEL type.
APPROVAL_FIELDS: tuple[tuple[str, type], ...] = (
    ("deal_size", float), ("max_discount_percent", float), ("risk_tier", str), ("classification", str),
    ("region", str), ("open_deviations", int), ("non_standard_clauses", int),
)
# ISO 8601 durations of fixed length: weeks, days, hours, minutes, seconds (months and years vary).
_DURATION = re.compile(r"P(?:(?P<weeks>\d{1,4})W)?(?:(?P<days>\d{1,5})D)?"
                       r"(?:T(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,8})M)?(?:(?P<seconds>\d{1,10})S)?)?")


def sla_of(sla: str) -> dt.timedelta:
    """An ISO 8601 duration longer than zero: P2D, PT36H, P1DT12H, P1W."""
    match = _DURATION.fullmatch(sla)
    value = dt.timedelta(**{k: int(v) for k, v in match.groupdict().items() if v}) if match and not sla.endswith("T") \
        else dt.timedelta(0)
    if value <= dt.timedelta(0):
        raise ValueError(f"{sla!r} is not an ISO 8601 duration of weeks, days, hours, minutes or seconds "
                         f"longer than zero (e.g. P2D, PT36H)")
    return value


@dataclass(frozen=True)
class ResolvedStep:
    spec: ApprovalStepSpec
    rule_ids: tuple[str, ...]


def check_rules(rules_: list[ApprovalRule]) -> None:
    """Every refusal names the rule (by index and id) and what is wrong with it."""
    seen: set[str] = set()
    for i, rule in enumerate(rules_):
        where = f"rules[{i}]"
        if rule.rule_id in seen:
            raise invalid(rules.APPROVAL_RULE_ID_DUPLICATE, f"rule id {rule.rule_id!r} is used twice",
                          field=f"{where}.rule_id")
        seen.add(rule.rule_id)
        if rule.condition.strip():
            try:
                compile_condition_over(rule.condition, APPROVAL_FIELDS)
            except ConditionInvalid as exc:
                raise invalid(rules.APPROVAL_CONDITION_INVALID, f"rule {rule.rule_id}: {exc}",
                              field=f"{where}.condition", rule_id=rule.rule_id) from None
        for j, step in enumerate(rule.steps):
            try:
                sla_of(step.sla)
            except ValueError as exc:
                raise invalid(rules.APPROVAL_SLA_INVALID, f"rule {rule.rule_id}, step {step.name}: {exc}",
                              field=f"{where}.steps[{j}].sla", rule_id=rule.rule_id) from None
            levels = [step.approvers, *step.escalation]
            for k, level in enumerate(levels):
                for approver in level:
                    if approver.kind == "role" and approver.value not in rules.APPROVING_ROLES:
                        raise invalid(rules.APPROVAL_APPROVER_ROLE_NOT_ALLOWED,
                                      f"rule {rule.rule_id}, step {step.name}: the role {approver.value} does not "
                                      f"approve (approving roles: {', '.join(sorted(rules.APPROVING_ROLES))})",
                                      field=f"{where}.steps[{j}]." + ("approvers" if k == 0 else f"escalation[{k - 1}]"),
                                      rule_id=rule.rule_id)
                if k > 0 and not level:
                    raise invalid(rules.APPROVAL_APPROVER_ROLE_NOT_ALLOWED,
                                  f"rule {rule.rule_id}, step {step.name}: escalation level {k} names no approver",
                                  field=f"{where}.steps[{j}].escalation[{k - 1}]", rule_id=rule.rule_id)


def applies_to(rule: ApprovalRule, deal: Mapping[str, object]) -> bool:
    """Whether the rule asks for its steps. A condition naming a field the deal does not give (or
    failing on its values) applies: an unknown deal size is approved as a large one would be."""
    if not rule.condition.strip():
        return True
    try:
        return compile_condition_over(rule.condition, APPROVAL_FIELDS).holds(deal)
    except ConditionFailed:
        return True


class ApprovalMatrix(Aggregate):
    stream_type = "approval_matrix"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.versions: list[ApprovalMatrixPublished] = []

    @classmethod
    def create(cls, matrix_id: uuid.UUID, *, name: str, rules_: list[ApprovalRule], by: str, at: dt.datetime) -> Self:
        matrix = cls(str(matrix_id))
        matrix.publish(name=name, rules_=rules_, by=by, at=at)
        return matrix

    def publish(self, *, name: str, rules_: list[ApprovalRule], by: str, at: dt.datetime) -> None:
        check_rules(rules_)
        self.record(ApprovalMatrixPublished(matrix_id=uuid.UUID(self.id), version=len(self.versions) + 1, name=name,
                                            rules=rules_, published_by=by, published_at=at))

    @property
    def latest(self) -> ApprovalMatrixPublished:
        return self.versions[-1]

    def version_numbered(self, number: int) -> ApprovalMatrixPublished:
        if not 1 <= number <= len(self.versions):
            raise NotFound("approval_matrix_version", f"{self.id} v{number}", field="version")
        return self.versions[number - 1]

    def same_terms(self, name: str, rules_: list[ApprovalRule]) -> bool:
        return self.latest.name == name and self.latest.rules == rules_

    def route(self, deal: Mapping[str, object]) -> list[ResolvedStep]:
        if not self.versions:
            raise ConflictingState("approval_matrix.not_published", f"matrix {self.id} has no version", field="matrix_id")
        by_name: dict[str, ResolvedStep] = {}
        for rule in self.latest.rules:
            if not applies_to(rule, deal):
                continue
            for step in rule.steps:
                found = by_name.get(step.name)
                by_name[step.name] = ResolvedStep(step, (*found.rule_ids, rule.rule_id)) if found else \
                    ResolvedStep(step, (rule.rule_id,))
        if not by_name:  # nothing is approved by nobody
            return [ResolvedStep(DEFAULT_STEP, (DEFAULT_RULE_ID,))]
        return sorted(by_name.values(), key=lambda s: s.spec.sequence)  # stable: the matrix's order within one

    @applies
    def _on_published(self, event: ApprovalMatrixPublished) -> None:
        self.versions.append(event)


# When no rule of a matrix matches a deal, legal review still applies (as `rule_ids` ["default"]).
DEFAULT_RULE_ID = "default"
DEFAULT_STEP = ApprovalStepSpec(name="Legal review", sequence=1, approvers=[Approver(kind="role", value="legal_counsel")],
                                informed_roles=["sales", "contract_manager"], sla="P2D")


# -- the standard matrix: what routes a contract before a contract manager publishes their own ------

STANDARD_MATRIX_ID = uuid.uuid5(uuid.NAMESPACE_URL, "urn:clm-platform:approval-matrix/standard")
SYSTEM = "system"


def _role(name: str) -> Approver:
    return Approver(kind="role", value=name)


STANDARD_RULES = [
    ApprovalRule(rule_id="legal", name="Every contract: legal review", condition="", steps=[
        ApprovalStepSpec(name="Legal review", sequence=1, approvers=[_role("legal_counsel")],
                         informed_roles=["sales", "contract_manager"], sla="P2D",
                         escalation=[[_role("sales_leadership")]])]),
    ApprovalRule(rule_id="large-or-discounted", name="Above 250,000 or a discount above 20 %",
                 condition="deal_size > 250000.0 || max_discount_percent > 20.0", steps=[
        ApprovalStepSpec(name="Finance review", sequence=1, approvers=[_role("finance")],
                         informed_roles=["sales", "sales_ops"], sla="P2D", escalation=[[_role("sales_leadership")]])]),
    ApprovalRule(rule_id="high-risk", name="High risk", condition='risk_tier == "high" || classification == "high_risk"',
                 steps=[ApprovalStepSpec(name="Sales leadership sign-off", sequence=2,
                                         approvers=[_role("sales_leadership")], informed_roles=["sales"], sla="P3D")]),
]


def standard_matrix(at: dt.datetime) -> ApprovalMatrix:
    return ApprovalMatrix.create(STANDARD_MATRIX_ID, name="Standard approvals", rules_=STANDARD_RULES, by=SYSTEM, at=at)
