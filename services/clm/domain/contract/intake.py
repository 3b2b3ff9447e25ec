"""The contract's request (phase 1): opened from an approved quote or self-service, enriched,
moved through the request states, classified and assigned.

States and who moves them: docs/design/contracting.md, "Request states". `TRANSITIONS` holds the
whole table; this issue's commands drive draft -> new -> work_in_progress <-> awaiting_review and
cancellation; approval, signature and closing are driven by later issues through the same table.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Self

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import is_time_zone
from shared.backbone.errors import ConflictingState, invalid
from shared.events.contracts import (
    AssigneeRole,
    Classification,
    ClassificationReason,
    ContractAssigned,
    ContractClassified,
    ContractRequested,
    ContractRequestEnriched,
    ContractRequestStateChanged,
    RequestedAccount,
    RequestedDeal,
    RequestTerms,
)
from shared.events.quotes import QuoteApproved, QuoteLine
from services.clm.domain import rules
from services.clm.domain.contract.classification import RANK, classify, higher

# contract_id = uuid5(QUOTE_NAMESPACE, str(quote_id)): a redelivered QuoteApproved finds its request.
QUOTE_NAMESPACE = uuid.UUID("0b6a2f4e-52c1-4c8e-9f0d-7a1d3e5b9c21")
RULES = "rules"  # the `by` of what the classification rules decide


class RequestState(StrEnum):
    DRAFT = "draft"
    NEW = "new"
    WORK_IN_PROGRESS = "work_in_progress"
    AWAITING_REVIEW = "awaiting_review"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_SIGNATURE = "awaiting_signature"
    CONTRACT_SIGNED = "contract_signed"
    CLOSED_COMPLETE = "closed_complete"
    CANCELLED = "cancelled"


S = RequestState
TERMINAL = frozenset({S.CLOSED_COMPLETE, S.CANCELLED})
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.DRAFT: frozenset({S.NEW, S.CANCELLED}),
    S.NEW: frozenset({S.WORK_IN_PROGRESS, S.CANCELLED}),
    S.WORK_IN_PROGRESS: frozenset({S.AWAITING_REVIEW, S.AWAITING_APPROVAL, S.AWAITING_SIGNATURE, S.CANCELLED}),
    S.AWAITING_REVIEW: frozenset({S.WORK_IN_PROGRESS, S.AWAITING_APPROVAL, S.CANCELLED}),
    S.AWAITING_APPROVAL: frozenset({S.WORK_IN_PROGRESS, S.AWAITING_SIGNATURE, S.CANCELLED}),
    S.AWAITING_SIGNATURE: frozenset({S.WORK_IN_PROGRESS, S.CONTRACT_SIGNED, S.CANCELLED}),
    S.CONTRACT_SIGNED: frozenset({S.CLOSED_COMPLETE, S.CANCELLED}),
    S.CLOSED_COMPLETE: frozenset(),
    S.CANCELLED: frozenset(),
}
ENRICHABLE = frozenset({S.DRAFT, S.NEW, S.WORK_IN_PROGRESS})
# What a request from a quote takes from the quote and keeps: a change is a revised quote.
QUOTE_TERMS = ("account", "currency", "term_months", "billing_frequency", "time_zone", "lines")
# What a person enters of the deal; deal_size and max_discount_percent follow from the lines.
ENTERED_DEAL_FIELDS = ("region", "industry", "risk_tier", "data_residency")
CENT = Decimal("0.01")


def request_id_of_quote(quote_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(QUOTE_NAMESPACE, str(quote_id))


def priced_line(*, line_id: uuid.UUID, sku: str, product: str, quantity: Decimal, unit_price: Decimal,
                discount_percent: Decimal = Decimal(0), start_date: dt.date | None = None,
                end_date: dt.date | None = None, field: str = "line") -> QuoteLine:
    """A self-service line in the quote's shape, its net amount computed (to the cent)."""
    if quantity <= 0:
        raise invalid(rules.REQUEST_LINE_QUANTITY, "a line's quantity is more than 0", field=f"{field}.quantity")
    if not 0 <= discount_percent <= 100:
        raise invalid(rules.REQUEST_LINE_DISCOUNT, "a discount lies between 0 and 100 percent",
                      field=f"{field}.discount_percent")
    try:
        net = (quantity * unit_price * (100 - discount_percent) / 100).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:  # more digits than a Decimal holds
        raise invalid(rules.REQUEST_LINE_AMOUNT_TOO_LARGE, "the line's amount is too large", field=f"{field}.unit_price")
    return QuoteLine(line_id=line_id, sku=sku, product=product, quantity=quantity, unit_price=unit_price,
                     discount_percent=discount_percent, start_date=start_date, end_date=end_date, net_amount=net)


def with_derived(deal: RequestedDeal, lines: list[QuoteLine]) -> RequestedDeal:
    """Deal size and the largest discount follow from the lines (none without lines)."""
    return deal.model_copy(update={
        "deal_size": sum((line.net_amount for line in lines), Decimal(0)) if lines else None,
        "max_discount_percent": max(line.discount_percent for line in lines) if lines else None,
    })


@dataclass(frozen=True)
class Assignment:
    queue: str | None
    assignee: str | None
    assignee_role: AssigneeRole | None
    by: str


@dataclass(frozen=True)
class Transition:
    """One entry of the request's history: the first has no from_state (how it was opened)."""

    from_state: RequestState | None
    to_state: RequestState
    by: str
    at: dt.datetime
    reason: str = ""


class Intake(Aggregate):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.requested: ContractRequested | None = None  # as opened; `request_terms` as enriched since
        self.request_terms: RequestTerms | None = None
        self.request_state: RequestState | None = None
        self.history: list[Transition] = []
        self.classification: Classification | None = None
        self.classification_reasons: list[ClassificationReason] = []
        self.raised_to: Classification | None = None  # a person's classification, the floor of the rules'
        self.assignment: Assignment | None = None

    # -- opening ----------------------------------------------------------------------------------

    @classmethod
    def request_from_quote(cls, quote: QuoteApproved) -> Self:
        """A request in `new` with every commercial field of the approved quote."""
        contract_id = request_id_of_quote(quote.quote_id)
        terms = RequestTerms(
            title=f"{quote.account.name}: quote {quote.number}",
            account=RequestedAccount(**quote.account.model_dump()), currency=quote.currency,
            term_months=quote.term_months, billing_frequency=quote.billing_frequency, time_zone=quote.time_zone,
            lines=quote.lines, deal=RequestedDeal(**quote.deal.model_dump()),
        )
        return cls._open(ContractRequested(
            contract_id=contract_id, number=_number(contract_id), origin="quote", quote_id=quote.quote_id,
            quote_number=quote.number, opportunity_id=quote.opportunity_id, state=S.NEW,
            requested_by=quote.approved_by, requested_at=quote.approved_at, **dict(terms),
        ))

    @classmethod
    def request(cls, contract_id: uuid.UUID, terms: RequestTerms, *, by: str, at: dt.datetime) -> Self:
        """A self-service request in `draft`, to be enriched and submitted."""
        _check(terms)
        terms = terms.model_copy(update={"deal": with_derived(terms.deal, terms.lines)})
        return cls._open(ContractRequested(
            contract_id=contract_id, number=_number(contract_id), origin="self_service", state=S.DRAFT,
            requested_by=by, requested_at=at, **dict(terms),
        ))

    @classmethod
    def _open(cls, requested: ContractRequested) -> Self:
        contract = cls(str(requested.contract_id))
        contract.record(requested)
        contract._follow_rules(requested.requested_at)
        return contract

    def same_request(self, other: "Intake") -> bool:
        """Whether `other` asks for what this contract was opened with (a retried create)."""
        def asked(c: "Intake") -> dict | None:
            return c.requested.model_dump(exclude={"requested_by", "requested_at"}) if c.requested else None
        return self.requested is not None and asked(self) == asked(other)

    # -- enrichment --------------------------------------------------------------------------------

    def enrich(self, *, by: str, at: dt.datetime, deal: dict | None = None, **changes) -> None:
        """Sets the fields given (`deal`: some of region, industry, risk_tier, data_residency);
        records only what changed, then lets the rules reclassify."""
        state = self._require_request()
        changes = {name: value for name, value in changes.items() if value is not None}
        if state not in ENRICHABLE:
            raise ConflictingState(rules.REQUEST_ENRICH_ONLY_BEFORE_REVIEW,
                                   f"a request in {state} can no longer be enriched", field="state")
        current = self.request_terms
        if self.requested.origin == "quote":
            for name in QUOTE_TERMS:
                if name in changes and changes[name] != getattr(current, name):
                    raise ConflictingState(rules.REQUEST_QUOTE_TERMS_FIXED,
                                           f"{name} comes from quote {self.requested.quote_number}; revise the quote",
                                           field=name)
        changed = {name: value for name, value in changes.items() if value != getattr(current, name)}
        entered = {name: value for name, value in (deal or {}).items() if name in ENTERED_DEAL_FIELDS}
        new_deal = RequestedDeal.model_validate({**current.deal.model_dump(), **entered})
        if "lines" in changed:
            new_deal = with_derived(new_deal, changed["lines"])
        if new_deal != current.deal:
            changed["deal"] = new_deal
        if not changed:
            return
        _check(RequestTerms.model_validate({**dict(current), **changed}))
        self.record(ContractRequestEnriched(contract_id=self.contract_uuid, by=by, at=at, **changed))
        self._follow_rules(at)

    # -- states ------------------------------------------------------------------------------------

    def submit(self, *, by: str, at: dt.datetime) -> None:
        """draft -> new: a self-service request is complete enough for contracting to take it."""
        if self._require_request() is not S.DRAFT:
            raise ConflictingState(rules.REQUEST_SUBMIT_ONLY_FROM_DRAFT,
                                   f"only a draft is submitted; this request is {self.request_state}", field="state")
        missing = [name for name in rules.REQUIRED_FOR_SUBMISSION if getattr(self.request_terms, name) in (None, "")]
        if missing:
            raise invalid(rules.REQUEST_SUBMISSION_INCOMPLETE, f"a request is submitted with {', '.join(missing)}",
                          field=missing[0], missing=missing)
        self._move(S.NEW, by, at, rules.REQUEST_SUBMIT_ONLY_FROM_DRAFT)

    def start_work(self, *, by: str, roles: frozenset[str], at: dt.datetime) -> None:
        """new -> work_in_progress, or back from review to negotiation. By the named assignee or a
        contract manager; from a queue, whoever starts it takes it."""
        if self._require_request() not in (S.NEW, S.AWAITING_REVIEW):
            raise ConflictingState(rules.REQUEST_WORK_ONLY_FROM_NEW_OR_REVIEW,
                                   f"work starts on a new request or one back from review, not on one {self.request_state}",
                                   field="state")
        named = self.assignment.assignee if self.assignment else None
        is_manager = "contract_manager" in roles
        if named is not None and named != by and not is_manager:
            raise ConflictingState(rules.REQUEST_WORK_BY_ASSIGNEE,
                                   f"the request is assigned to {named}; they or a contract manager start work on it",
                                   field="assignee")
        if named is None:
            self.record(ContractAssigned(contract_id=self.contract_uuid, assignee=by, by=by, at=at,
                                         assignee_role="contract_manager" if is_manager else "legal_counsel"))
        self._move(S.WORK_IN_PROGRESS, by, at, rules.REQUEST_WORK_ONLY_FROM_NEW_OR_REVIEW)

    def ready_for_review(self, *, by: str, at: dt.datetime) -> None:
        """work_in_progress -> awaiting_review."""
        if self._require_request() is not S.WORK_IN_PROGRESS:
            raise ConflictingState(rules.REQUEST_REVIEW_ONLY_FROM_WORK_IN_PROGRESS,
                                   f"only work in progress goes to review; this request is {self.request_state}",
                                   field="state")
        self._move(S.AWAITING_REVIEW, by, at, rules.REQUEST_REVIEW_ONLY_FROM_WORK_IN_PROGRESS)

    def cancel(self, *, reason: str, by: str, at: dt.datetime) -> None:
        if not reason.strip():
            raise invalid(rules.REQUEST_CANCEL_REASON_REQUIRED, "say why the request is cancelled", field="reason")
        self._refuse_if_terminal()
        self._move(S.CANCELLED, by, at, rules.REQUEST_TRANSITION_NOT_ALLOWED, reason=reason.strip())

    def _move(self, to: RequestState, by: str, at: dt.datetime, rule: str, reason: str = "") -> None:
        if to not in TRANSITIONS[self.request_state]:
            raise ConflictingState(rule, f"a request does not go from {self.request_state} to {to}", field="state")
        self.record(ContractRequestStateChanged(contract_id=self.contract_uuid, from_state=self.request_state,
                                                to_state=to, by=by, at=at, reason=reason))

    # -- classification and assignment -------------------------------------------------------------

    def classify_as(self, classification: Classification, *, reason: str, by: str, at: dt.datetime) -> None:
        """A person's classification: at least what the rules give (the refusal names the rule)."""
        self._refuse_if_terminal()
        by_rules, reasons = classify(self.request_terms.deal, self.requested.origin)
        if RANK[classification] < RANK[by_rules]:
            raise ConflictingState(reasons[0].rule, f"{reasons[0].message}: the request is at least {by_rules}",
                                   field="classification", rules_classification=by_rules)
        if classification != self.classification:  # confirming the class in force pins nothing
            manual = ClassificationReason(rule=rules.CLASSIFICATION_MANUAL, message=reason or f"classified by {by}")
            self._record_class(classification, [manual, *reasons], by, at)

    def assign(self, *, by: str, at: dt.datetime, queue: str | None = None, assignee: str | None = None,
               assignee_role: AssigneeRole | None = None) -> None:
        """To a queue, or to a named person in their role; the same assignment again changes nothing."""
        self._refuse_if_terminal()
        if (queue is None) == (assignee is None) or (assignee is None) != (assignee_role is None):
            raise invalid(rules.REQUEST_ASSIGNMENT_INVALID,
                          "assign to a queue, or to an assignee with their role (contract_manager or legal_counsel)",
                          field="queue" if queue is None and assignee is None else "assignee")
        current = self.assignment
        if current and (current.queue, current.assignee, current.assignee_role) == (queue, assignee, assignee_role):
            return
        self.record(ContractAssigned(contract_id=self.contract_uuid, queue=queue, assignee=assignee,
                                     assignee_role=assignee_role, by=by, at=at))

    def _follow_rules(self, at: dt.datetime) -> None:
        """After the deal fields changed: the rules' class (never below a person's), and the queue
        of that class unless a person assigned the request."""
        by_rules, reasons = classify(self.request_terms.deal, self.requested.origin)
        target = higher(by_rules, self.raised_to) if self.raised_to else by_rules
        if target != self.classification:
            self._record_class(target, reasons, RULES, at)

    def _record_class(self, classification: Classification, reasons: list[ClassificationReason], by: str,
                      at: dt.datetime) -> None:
        self.record(ContractClassified(contract_id=self.contract_uuid, classification=classification,
                                       previous=self.classification, reasons=reasons, by=by, at=at))
        if self.assignment is None or self.assignment.by == RULES:
            queue = rules.QUEUE_OF_CLASS[classification]
            if self.assignment is None or self.assignment.queue != queue:
                self.record(ContractAssigned(contract_id=self.contract_uuid, queue=queue, by=RULES, at=at))

    def _require_request(self) -> RequestState:
        if self.request_state is None:
            raise ConflictingState(rules.REQUEST_NOT_A_REQUEST,
                                   f"contract {self.id} was drafted without a request", field="contract_id")
        return self.request_state

    def _refuse_if_terminal(self) -> None:
        if self._require_request() in TERMINAL:
            raise ConflictingState(rules.REQUEST_STATE_TERMINAL, f"the request is {self.request_state}", field="state")

    @property
    def contract_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.id)

    # -- what the events say -----------------------------------------------------------------------

    @applies
    def _on_requested(self, event: ContractRequested) -> None:
        self.requested = event
        self.request_terms = RequestTerms(**{name: getattr(event, name) for name in RequestTerms.model_fields})
        self.request_state = RequestState(event.state)
        self.history.append(Transition(None, self.request_state, event.requested_by, event.requested_at))

    @applies
    def _on_enriched(self, event: ContractRequestEnriched) -> None:
        changed = {name: getattr(event, name) for name in RequestTerms.model_fields if getattr(event, name) is not None}
        self.request_terms = self.request_terms.model_copy(update=changed)

    @applies
    def _on_state_changed(self, event: ContractRequestStateChanged) -> None:
        self.request_state = RequestState(event.to_state)
        self.history.append(Transition(RequestState(event.from_state), self.request_state, event.by, event.at, event.reason))

    @applies
    def _on_classified(self, event: ContractClassified) -> None:
        self.classification = event.classification
        self.classification_reasons = event.reasons
        if event.by != RULES:
            self.raised_to = event.classification

    @applies
    def _on_assigned(self, event: ContractAssigned) -> None:
        self.assignment = Assignment(event.queue, event.assignee, event.assignee_role, event.by)


def _check(terms: RequestTerms) -> None:
    if terms.time_zone is not None and not is_time_zone(terms.time_zone):
        raise invalid(rules.TIME_ZONE_UNKNOWN, f"{terms.time_zone!r} is not an IANA time zone", field="time_zone")
    for i, line in enumerate(terms.lines):
        if line.start_date and line.end_date and line.end_date < line.start_date:
            raise invalid(rules.DATES_END_BEFORE_START, "the end date must not be before the start date",
                          field=f"lines[{i}].end_date")


def _number(contract_id: uuid.UUID) -> str:
    return f"CNT-{contract_id.hex[:10].upper()}"
