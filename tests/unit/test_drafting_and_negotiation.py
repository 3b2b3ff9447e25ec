"""The Contract's drafting and negotiation rules (domain/contract/drafting.py, negotiation.py) on the
aggregate alone: what drafting records and refuses, versions flagging and clearing deviations,
the classification raised (never lowered), negotiated terms recorded as data."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError, RuleKind
from shared.events.contracts import ContractClassified, ContractDrafted, ContractRequestStateChanged
from shared.events.documents import DocumentRef
from shared.events.negotiation import (
    ContractVersionAdded, DeviationCleared, DeviationFlagged, NegotiatedTerms, NegotiatedTermsRecorded, TemplateUsed,
    VersionClause,
)
from services.clm.domain import rules
from services.clm.domain.contract import Contract
from tests.events_factory import approved_quote

AT = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
TEMPLATE = TemplateUsed(template_id=uuid.uuid4(), template_version=1, kind="msa")
LIABILITY, CONFIDENTIALITY = uuid.uuid4(), uuid.uuid4()
CAP = NegotiatedTerms(liability_cap=Decimal("1000000"), liability_cap_currency="EUR", payment_days=30,
                      governing_law="Germany")


def document(n: int) -> DocumentRef:
    return DocumentRef(document_id=uuid.uuid4(), sha256=f"{n:064x}", size=100, media_type="application/octet-stream",
                       filename=f"v{n}.docx")


def clause(number: str, clause_id: uuid.UUID, match: str | None = None, score: float | None = None) -> VersionClause:
    return VersionClause(number=number, heading=f"Clause {number}", text="...", clause_id=clause_id, clause_version=1,
                         variant="standard", match=match, score=score)


def requested(**deal) -> Contract:
    """A request from a quote (state new), standard by the rules unless `deal` says otherwise."""
    contract = Contract.request_from_quote(approved_quote(**deal))
    contract.mark_persisted()
    return contract


def drafted(**deal) -> Contract:
    contract = requested(**deal)
    contract.draft_from_template(template=TEMPLATE, vendor="Initech", start_date=dt.date(2027, 1, 1),
                                 variables={"liability_cap": "EUR 1,000,000"},
                                 clauses=[clause("1", LIABILITY), clause("2", CONFIDENTIALITY)], terms=CAP,
                                 document=document(1), by="counsel-lena", at=AT)
    contract.mark_persisted()
    return contract


def upload(contract: Contract, *clauses: VersionClause, terms: NegotiatedTerms = CAP) -> list:
    contract.add_version(origin="counterparty_upload", author="sales-ann", at=AT, document=document(len(contract.versions) + 1),
                         clauses=list(clauses), terms=terms)
    events = contract.pending_events
    contract.mark_persisted()
    return events


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value


def test_drafting_records_the_contract_version_1_and_the_move_to_work():
    contract = requested()
    assert contract.classification == "standard"
    contract.draft_from_template(template=TEMPLATE, vendor="Initech", start_date=dt.date(2027, 1, 1), variables={},
                                 clauses=[clause("1", LIABILITY)], terms=CAP, document=document(1), by="counsel-lena", at=AT)
    drafted_, version, moved = contract.pending_events
    assert isinstance(drafted_, ContractDrafted) and isinstance(version, ContractVersionAdded)
    assert (drafted_.start_date, drafted_.end_date) == (dt.date(2027, 1, 1), dt.date(2029, 12, 31))  # 36 months
    assert [(p.role, p.name) for p in drafted_.parties] == [("customer", "ACME Robotics"), ("vendor", "Initech")]
    assert (drafted_.contract_model, drafted_.time_zone, drafted_.number) == ("msa", "Europe/Berlin", contract.requested.number)
    assert (version.version_number, version.origin, version.template, version.author) == (1, "generated", TEMPLATE, "counsel-lena")
    assert isinstance(moved, ContractRequestStateChanged) and (moved.from_state, moved.to_state) == ("new", "work_in_progress")
    assert contract.current_version.version_number == 1 and contract.negotiated_terms == CAP


def test_the_end_date_is_the_day_before_the_term_is_over():
    contract = requested()
    assert contract.drafting_dates(dt.date(2027, 1, 31)) == (dt.date(2027, 1, 31), dt.date(2030, 1, 30))


def test_drafting_is_refused_naming_the_rule():
    assert refusal(lambda: drafted().check_draftable()).rule == rules.DRAFTING_ALREADY_DRAFTED
    cancelled = requested()
    cancelled.cancel(reason="lost", by="ann", at=AT)
    assert refusal(cancelled.check_draftable).rule == rules.DRAFTING_ONLY_FROM_NEW_OR_WORK
    no_start = refusal(lambda: requested().drafting_dates(None))
    assert (no_start.rule, no_start.kind, no_start.field) == (rules.DRAFTING_START_DATE_MISSING, RuleKind.INVALID, "start_date")


def test_request_variables_win_over_the_callers():
    contract = requested()
    found = contract.request_variables("Initech", dt.date(2027, 1, 1))
    assert found["customer_name"] == "ACME Robotics" and found["provider_name"] == "Initech"
    assert (found["effective_date"], found["term_months"], found["currency"]) == ("2027-01-01", 36, "EUR")


def test_a_non_standard_clause_and_a_lower_cap_are_flagged_and_raise_the_class():
    contract = drafted()
    lower = CAP.model_copy(update={"liability_cap": Decimal("500000")})
    events = upload(contract, clause("1", LIABILITY, "standard", 99.0), clause("2", CONFIDENTIALITY, "non_standard", 61.5),
                    terms=lower)
    added, *flags, classified, _assigned = events
    assert isinstance(added, ContractVersionAdded) and added.version_number == 2
    assert {(f.kind, f.closest_clause_id, f.term) for f in flags} == {
        ("non_standard_clause", CONFIDENTIALITY, None), ("term_changed", None, "liability_cap")}
    cap = next(f for f in flags if f.kind == "term_changed")
    assert (cap.before, cap.after) == ("1000000", "500000")
    assert isinstance(classified, ContractClassified)
    assert (classified.previous, classified.classification) == ("standard", "non_standard")
    assert classified.reasons[0].rule == rules.CLASSIFICATION_DEVIATION_OPEN
    assert len(contract.open_deviations) == 2 and contract.current_version.version_number == 2


def test_a_deviation_still_there_is_not_flagged_again_and_one_gone_is_cleared():
    contract = drafted()
    lower = CAP.model_copy(update={"liability_cap": Decimal("500000")})
    upload(contract, clause("1", LIABILITY, "standard", 99.0), clause("2", CONFIDENTIALITY, "non_standard", 61.5), terms=lower)
    again = upload(contract, clause("1", LIABILITY, "standard", 100.0), clause("2", CONFIDENTIALITY, "non_standard", 70.0),
                   terms=lower)
    assert [type(e) for e in again] == [ContractVersionAdded]
    back = upload(contract, clause("1", LIABILITY, "standard", 100.0), clause("2", CONFIDENTIALITY, "standard", 100.0))
    assert [type(e) for e in back] == [ContractVersionAdded, DeviationCleared, DeviationCleared]
    assert contract.open_deviations == {} and len(contract.cleared) == 2
    assert contract.classification == "non_standard"  # never lowered automatically


def test_a_higher_cap_is_no_deviation_and_a_high_risk_contract_stays_high_risk():
    contract = drafted(risk_tier="high")
    higher = CAP.model_copy(update={"liability_cap": Decimal("2000000")})
    assert [type(e) for e in upload(contract, clause("1", LIABILITY, "standard", 100.0), terms=higher)] == [ContractVersionAdded]
    events = upload(contract, clause("1", LIABILITY, "non_standard", 50.0))
    assert [type(e) for e in events] == [ContractVersionAdded, DeviationFlagged]
    assert contract.classification == "high_risk"


def test_versions_need_a_draft_and_a_request_in_negotiation():
    assert refusal(lambda: upload(requested())).rule == rules.NEGOTIATION_NOT_DRAFTED
    contract = drafted()
    contract.cancel(reason="lost", by="ann", at=AT)
    assert refusal(lambda: upload(contract)).rule == rules.NEGOTIATION_ONLY_IN_NEGOTIATION
    missing = refusal(lambda: contract.version_numbered(5))
    assert missing.kind == RuleKind.NOT_FOUND


def test_negotiated_terms_are_recorded_as_data():
    contract = drafted()
    assert refusal(lambda: contract.record_terms(NegotiatedTerms(), by="ann", at=AT)).rule == rules.NEGOTIATION_TERMS_EMPTY
    contract.record_terms(NegotiatedTerms(payment_days=30), by="ann", at=AT)
    assert contract.pending_events == []  # what it already says
    contract.record_terms(NegotiatedTerms(payment_days=45, auto_renewal=False), by="ann", at=AT)
    assert isinstance(contract.pending_events[0], NegotiatedTermsRecorded)
    assert (contract.negotiated_terms.payment_days, contract.negotiated_terms.auto_renewal,
            contract.negotiated_terms.liability_cap) == (45, False, Decimal("1000000"))


@pytest.mark.parametrize("start", [dt.date(1, 1, 1), dt.date(9998, 6, 1)])
def test_a_term_that_starts_or_ends_outside_the_plannable_calendar_is_refused(start):
    contract = requested()
    with pytest.raises(DomainError) as refused:
        contract.draft_from_template(template=TEMPLATE, vendor="Initech", start_date=start, variables={},
                                     clauses=[clause("1", LIABILITY)], terms=CAP, document=document(1),
                                     by="counsel-lena", at=AT)
    assert (refused.value.rule, refused.value.field) == ("dates.out_of_range", "start_date")
    assert contract.pending_events == []
