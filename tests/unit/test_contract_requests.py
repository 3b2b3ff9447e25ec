"""The contract's request (phase 1): opening from a quote or self-service, the state machine,
classification by the named rules, assignment; and the use cases on the in-memory unit of work."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import ConcurrencyConflict, DomainError, NotFound, RuleKind
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.contracts import (
    ContractClassified, ContractRequested, ContractRequestEnriched, ContractRequestStateChanged,
    RequestedAccount, RequestedDeal, RequestTerms,
)
from shared.events.envelope import Envelope
from shared.events.quotes import Account, DealFields, QuoteApproved, QuoteLine
from services.clm.adapters.memory_views import MemoryViews
from services.clm.application import contract_requests as use_cases
from services.clm.application.consumed_events import open_request_from_quote
from services.clm.domain import rules
from services.clm.domain.contract import QUOTE_NAMESPACE, Contract, RequestState
from services.clm.domain.contract.classification import classify
from services.clm.domain.contract.intake import TRANSITIONS, priced_line

AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=3)
LEGAL, CM = frozenset({"legal_counsel"}), frozenset({"contract_manager"})


def quote(**deal) -> QuoteApproved:
    line = QuoteLine(line_id=uuid.uuid4(), sku="SUP-PREM", product="Premium support", quantity=Decimal(2),
                     unit_price=Decimal("1200.00"), discount_percent=Decimal("10"), start_date=dt.date(2027, 1, 1),
                     end_date=dt.date(2029, 12, 31), net_amount=Decimal("2160.00"))
    fields = dict(region="EU", industry="manufacturing", risk_tier="low", data_residency="EU",
                  deal_size=Decimal("2160.00"), max_discount_percent=Decimal("10")) | deal
    return QuoteApproved(
        quote_id=uuid.uuid4(), number="Q-2026-0117", account=Account(account_id="ACC-77", name="ACME Robotics"),
        opportunity_id="OPP-4411", currency="EUR", term_months=36, billing_frequency="annual",
        valid_until=dt.date(2026, 12, 31), time_zone="Europe/Berlin", lines=[line], deal=DealFields(**fields),
        approved_at=AT, approved_by="sales-ann",
    )


def self_service(**terms) -> Contract:
    fields = dict(title="Robot fleet service", account=RequestedAccount(name="ACME")) | terms
    return Contract.request(uuid.uuid4(), RequestTerms(**fields), by="sales-ann", at=AT)


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as refusal:
        call()
    return refusal.value


# -- opening -------------------------------------------------------------------------------------

def test_a_request_from_a_quote_copies_every_commercial_field_and_starts_new_in_the_standard_queue():
    q = quote()
    contract = Contract.request_from_quote(q)
    requested, classified, assigned = contract.pending_events
    assert contract.contract_uuid == uuid.uuid5(QUOTE_NAMESPACE, str(q.quote_id))
    assert isinstance(requested, ContractRequested)
    assert (requested.origin, requested.state, requested.requested_by, requested.requested_at) == ("quote", "new", "sales-ann", AT)
    assert (requested.quote_id, requested.quote_number, requested.opportunity_id) == (q.quote_id, q.number, q.opportunity_id)
    assert requested.account.model_dump() == q.account.model_dump()
    assert (requested.currency, requested.term_months, requested.billing_frequency, requested.time_zone) == (
        q.currency, q.term_months, q.billing_frequency, q.time_zone)
    assert requested.lines == q.lines
    assert requested.deal.model_dump() == q.deal.model_dump()
    assert (classified.classification, classified.previous, classified.reasons, classified.by) == ("standard", None, [], "rules")
    assert (assigned.queue, assigned.assignee, assigned.by) == ("contracts-standard", None, "rules")
    assert contract.request_state is RequestState.NEW


def test_a_self_service_request_starts_draft_and_missing_deal_fields_make_it_non_standard():
    contract = self_service()
    assert contract.request_state is RequestState.DRAFT
    assert contract.classification == "non_standard"
    assert [r.rule for r in contract.classification_reasons] == [rules.CLASSIFICATION_DEAL_FIELDS_MISSING]
    assert contract.assignment.queue == "legal-review"


def test_self_service_lines_are_priced_and_give_the_deal_size_and_largest_discount():
    lines = [priced_line(line_id=uuid.uuid4(), sku="A", product="Arm", quantity=Decimal(3), unit_price=Decimal("99.99"),
                         discount_percent=Decimal("12.5")),
             priced_line(line_id=uuid.uuid4(), sku="B", product="Base", quantity=Decimal(1), unit_price=Decimal("10"))]
    assert [line.net_amount for line in lines] == [Decimal("262.47"), Decimal("10.00")]
    contract = self_service(lines=lines, currency="EUR")
    assert (contract.request_terms.deal.deal_size, contract.request_terms.deal.max_discount_percent) == (
        Decimal("272.47"), Decimal("12.5"))


# -- classification rules ------------------------------------------------------------------------

@pytest.mark.parametrize("deal,expected,reasons", [
    (dict(risk_tier="high"), "high_risk", [rules.CLASSIFICATION_RISK_TIER_HIGH]),
    (dict(data_residency="US"), "non_standard", [rules.CLASSIFICATION_DATA_RESIDENCY]),
    (dict(deal_size=rules.NON_STANDARD_DEAL_SIZE + 1), "non_standard", [rules.CLASSIFICATION_DEAL_SIZE]),
    (dict(deal_size=rules.NON_STANDARD_DEAL_SIZE), "standard", []),
    (dict(max_discount_percent=rules.STANDARD_MAX_DISCOUNT_PERCENT + Decimal("0.5")), "non_standard",
     [rules.CLASSIFICATION_DISCOUNT]),
    (dict(risk_tier="high", data_residency="US"), "high_risk",
     [rules.CLASSIFICATION_RISK_TIER_HIGH, rules.CLASSIFICATION_DATA_RESIDENCY]),
    ({}, "standard", []),
])
def test_the_classification_rules(deal, expected, reasons):
    full = dict(region="EU", industry="retail", risk_tier="low", data_residency="EU", deal_size=Decimal(1000),
                max_discount_percent=Decimal(5)) | deal
    classification, why = classify(RequestedDeal(**full), "quote")
    assert (classification, [r.rule for r in why]) == (expected, reasons)


def test_missing_deal_fields_count_only_for_self_service():
    assert classify(RequestedDeal(), "self_service")[0] == "non_standard"
    assert classify(RequestedDeal(), "quote") == ("standard", [])


def test_a_person_raises_the_class_but_never_below_the_rules_and_the_refusal_names_the_rule():
    contract = Contract.request_from_quote(quote(data_residency="US"))
    assert contract.classification == "non_standard"
    lower = refused(lambda: contract.classify_as("standard", reason="", by="cm-max", at=LATER))
    assert (lower.rule, lower.kind, lower.extra["rules_classification"]) == (
        rules.CLASSIFICATION_DATA_RESIDENCY, RuleKind.CONFLICT, "non_standard")
    contract.mark_persisted()
    contract.classify_as("high_risk", reason="new market", by="cm-max", at=LATER)
    [classified] = contract.pending_events  # non-standard and high risk share the legal-review queue
    assert (classified.classification, classified.previous, classified.by) == ("high_risk", "non_standard", "cm-max")
    assert classified.reasons[0].rule == rules.CLASSIFICATION_MANUAL and classified.reasons[0].message == "new market"


def test_enrichment_reclassifies_but_never_below_a_persons_raise_and_the_queue_follows_the_class():
    contract = self_service(currency="EUR")
    contract.enrich(by="sales-ann", at=LATER, deal=dict(region="EU", industry="retail", risk_tier="low", data_residency="EU"),
                    lines=[priced_line(line_id=uuid.uuid4(), sku="A", product="Arm", quantity=Decimal(1), unit_price=Decimal(10))])
    assert (contract.classification, contract.assignment.queue) == ("standard", "contracts-standard")
    contract.classify_as("non_standard", reason="first deal", by="cm-max", at=LATER)
    contract.enrich(by="sales-ann", at=LATER, deal=dict(risk_tier="medium"))
    assert contract.classification == "non_standard"  # the person's floor holds
    contract.enrich(by="sales-ann", at=LATER, deal=dict(risk_tier="high"))
    assert (contract.classification, contract.assignment.queue) == ("high_risk", "legal-review")


def test_a_named_assignment_is_not_moved_by_reclassification():
    contract = self_service(currency="EUR")
    contract.assign(by="cm-max", at=LATER, assignee="lena", assignee_role="legal_counsel")
    contract.mark_persisted()
    contract.enrich(by="sales-ann", at=LATER, deal=dict(risk_tier="high"))
    assert [type(e) for e in contract.pending_events] == [ContractRequestEnriched, ContractClassified]
    assert contract.assignment.assignee == "lena"


def test_an_assignment_names_a_queue_or_a_person_with_a_role():
    contract = self_service()
    for kwargs in (dict(), dict(queue="q", assignee="lena", assignee_role="legal_counsel"), dict(assignee="lena")):
        assert refused(lambda: contract.assign(by="cm", at=LATER, **kwargs)).rule == rules.REQUEST_ASSIGNMENT_INVALID


# -- enrichment --------------------------------------------------------------------------------------

def test_enrichment_records_only_what_changed_and_nothing_when_nothing_did():
    contract = self_service()
    contract.mark_persisted()
    contract.enrich(by="sales-ann", at=LATER, title="Robot fleet service", currency="EUR", term_months=24)
    enriched, = [e for e in contract.pending_events if isinstance(e, ContractRequestEnriched)]
    assert enriched.model_dump(exclude_none=True) == {
        "contract_id": contract.contract_uuid, "currency": "EUR", "term_months": 24, "by": "sales-ann", "at": LATER}
    contract.mark_persisted()
    contract.enrich(by="sales-ann", at=LATER, currency="EUR")
    assert contract.pending_events == []


def test_a_request_from_a_quote_keeps_the_quotes_commercial_terms():
    contract = Contract.request_from_quote(quote())
    refusal = refused(lambda: contract.enrich(by="cm", at=LATER, currency="USD"))
    assert (refusal.rule, refusal.field) == (rules.REQUEST_QUOTE_TERMS_FIXED, "currency")
    contract.enrich(by="cm", at=LATER, title="ACME 2027 support", deal=dict(industry="automotive"))
    assert (contract.request_terms.title, contract.request_terms.deal.industry) == ("ACME 2027 support", "automotive")
    assert contract.request_terms.deal.deal_size == Decimal("2160.00")


def test_enrichment_checks_what_it_would_make():
    contract = self_service()
    assert refused(lambda: contract.enrich(by="a", at=LATER, time_zone="Mars/Olympus")).rule == rules.TIME_ZONE_UNKNOWN


# -- states ------------------------------------------------------------------------------------------

def test_submission_needs_a_currency_and_says_which_fields_are_missing():
    contract = self_service()
    refusal = refused(lambda: contract.submit(by="sales-ann", at=LATER))
    assert (refusal.rule, refusal.kind, refusal.field, refusal.extra["missing"]) == (
        rules.REQUEST_SUBMISSION_INCOMPLETE, RuleKind.INVALID, "currency", ["currency"])
    contract.enrich(by="sales-ann", at=LATER, currency="EUR")
    contract.submit(by="sales-ann", at=LATER)
    assert contract.request_state is RequestState.NEW


def test_the_life_of_a_request_each_transition_an_event_with_who_and_when():
    contract = Contract.request_from_quote(quote())
    contract.start_work(by="lena", roles=LEGAL, at=LATER)
    contract.ready_for_review(by="lena", at=LATER + dt.timedelta(days=1))
    contract.start_work(by="lena", roles=LEGAL, at=LATER + dt.timedelta(days=2))  # back to negotiation
    contract.cancel(reason="customer withdrew", by="cm-max", at=LATER + dt.timedelta(days=3))
    moves = [e for e in contract.pending_events if isinstance(e, ContractRequestStateChanged)]
    assert [(m.from_state, m.to_state, m.by) for m in moves] == [
        ("new", "work_in_progress", "lena"), ("work_in_progress", "awaiting_review", "lena"),
        ("awaiting_review", "work_in_progress", "lena"), ("work_in_progress", "cancelled", "cm-max")]
    assert moves[-1].reason == "customer withdrew"
    assert [(t.from_state, t.to_state) for t in contract.history][0] == (None, RequestState.NEW)
    assert contract.assignment.assignee == "lena"  # she took it from the queue when she started work
    rebuilt = Contract.rehydrate(contract.id, contract.pending_events)
    assert (rebuilt.request_state, rebuilt.history, rebuilt.assignment) == (
        contract.request_state, contract.history, contract.assignment)


def test_work_starts_by_the_named_assignee_or_a_contract_manager():
    contract = Contract.request_from_quote(quote())
    contract.assign(by="cm-max", at=LATER, assignee="lena", assignee_role="legal_counsel")
    refusal = refused(lambda: contract.start_work(by="otto", roles=LEGAL, at=LATER))
    assert (refusal.rule, refusal.kind) == (rules.REQUEST_WORK_BY_ASSIGNEE, RuleKind.CONFLICT)
    contract.start_work(by="cm-max", roles=CM, at=LATER)
    assert (contract.request_state, contract.assignment.assignee) == (RequestState.WORK_IN_PROGRESS, "lena")


def test_cancellation_needs_a_reason_and_terminal_requests_stay_as_they_are():
    contract = self_service()
    assert refused(lambda: contract.cancel(reason="  ", by="a", at=LATER)).rule == rules.REQUEST_CANCEL_REASON_REQUIRED
    contract.cancel(reason="duplicate", by="a", at=LATER)
    assert refused(lambda: contract.cancel(reason="again", by="a", at=LATER)).rule == rules.REQUEST_STATE_TERMINAL


def test_the_state_table_holds_the_whole_life_and_terminal_states_lead_nowhere():
    assert set(TRANSITIONS) == set(RequestState)
    for state, targets in TRANSITIONS.items():
        if state not in (RequestState.CLOSED_COMPLETE, RequestState.CANCELLED):
            assert RequestState.CANCELLED in targets, state
    assert TRANSITIONS[RequestState.CLOSED_COMPLETE] == TRANSITIONS[RequestState.CANCELLED] == frozenset()


def test_a_contract_drafted_without_a_request_has_no_request_commands():
    from shared.events.contracts import Party
    drafted = Contract.draft(uuid.uuid4(), number="CNT-1", title="T", contract_model="nda",
                             parties=[Party(role="customer", name="ACME")], start_date=dt.date(2027, 1, 1),
                             end_date=dt.date(2027, 12, 31))
    assert refused(lambda: drafted.submit(by="a", at=LATER)).rule == rules.REQUEST_NOT_A_REQUEST


# -- use cases on the in-memory unit of work ----------------------------------------------------------

@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def test_quote_approved_opens_one_request_however_often_it_arrives(new_uow, store):
    q = quote(risk_tier="high")
    for _ in range(2):
        async with new_uow() as uow:
            await open_request_from_quote(uow, Envelope(q, 1))
            await uow.commit()
    contract_id = uuid.uuid5(QUOTE_NAMESPACE, str(q.quote_id))
    assert [type(r.event).__name__ for r in store.events] == ["ContractRequested", "ContractClassified", "ContractAssigned"]
    rows = await use_cases.list_requests(new_uow(), after=None, limit=10, classification="high_risk")
    assert [(r["contract_id"], r["state"], r["queue"], r["origin"]) for r in rows] == [
        (contract_id, "new", "legal-review", "quote")]


async def test_a_self_service_request_is_idempotent_by_its_id_and_other_terms_are_refused(new_uow):
    contract_id = uuid.uuid4()
    terms = RequestTerms(title="Robot fleet service", account=RequestedAccount(name="ACME"))
    _, created = await use_cases.request_contract(new_uow(), contract_id, terms, by="ann", at=AT)
    again, created_again = await use_cases.request_contract(new_uow(), contract_id, terms, by="ann", at=LATER)
    assert (created, created_again, again.version) == (True, False, 3)
    other = terms.model_copy(update={"title": "Another"})
    with pytest.raises(DomainError) as taken:
        await use_cases.request_contract(new_uow(), contract_id, other, by="ann", at=AT)
    assert taken.value.rule == "contract.already_exists"


async def test_request_commands_run_on_the_version_the_client_read_and_the_index_follows(new_uow):
    contract_id = uuid.uuid4()
    terms = RequestTerms(title="Robot fleet service", account=RequestedAccount(name="ACME"), currency="EUR")
    contract, _ = await use_cases.request_contract(new_uow(), contract_id, terms, by="ann", at=AT)
    with pytest.raises(ConcurrencyConflict):
        await use_cases.change_request(new_uow(), contract_id, lambda c: c.submit(by="ann", at=LATER), expected_version=1)
    await use_cases.change_request(new_uow(), contract_id, lambda c: c.submit(by="ann", at=LATER), contract.version)
    with pytest.raises(DomainError):  # refused: nothing half-written, the index unchanged
        await use_cases.change_request(new_uow(), contract_id, lambda c: c.ready_for_review(by="lena", at=LATER))
    [row] = await use_cases.list_requests(new_uow(), after=None, limit=10, state="new")
    assert (row["contract_id"], row["state_since"], row["version"]) == (contract_id, LATER, 4)
    assert await use_cases.list_requests(new_uow(), after=None, limit=10, state="draft") == []
    with pytest.raises(NotFound):
        await use_cases.get_request(new_uow(), uuid.uuid4())
