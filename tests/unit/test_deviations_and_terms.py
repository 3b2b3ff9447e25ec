"""Clauses matched against the library (documents/deviations.py) and negotiated terms
(documents/values.py)."""

from decimal import Decimal
from uuid import uuid4

import pytest

from services.clm.domain.documents.deviations import STANDARD_MIN_SCORE, DeviationIndex, LibraryText, check, normalise
from services.clm.domain.documents.model import ContractDocument, DocumentClause as Clause
from services.clm.domain.documents.values import (
    NegotiatedTerms, TermChange, changed_terms, extract_values, parse_amount, parse_auto_renewal, parse_days,
    parse_governing_law, read_terms,
)

LIABILITY, LAW = uuid4(), uuid4()
CAP_TEMPLATE = "The total liability of either party shall not exceed {{ liability_cap }} in any contract year."
LAW_TEMPLATE = "This Agreement is governed by the laws of {{ governing_law }}."
LIBRARY = [
    LibraryText(LIABILITY, 2, "standard", "Liability", CAP_TEMPLATE.replace("{{ liability_cap }}", "EUR 1,000,000"),
                CAP_TEMPLATE),
    LibraryText(LIABILITY, 2, "twice_the_fees", "Liability",
                "The total liability of either party shall not exceed twice the fees paid in the twelve months before the claim."),
    LibraryText(LAW, 1, "standard", "Governing law", LAW_TEMPLATE.replace("{{ governing_law }}", "Germany"), LAW_TEMPLATE),
]


@pytest.fixture(scope="module")
def index():
    return DeviationIndex.build(LIBRARY)


def test_the_standard_text_with_numbering_quotes_and_case_changed_is_standard(index):
    match = index.match(Clause("7", "Liability", "7.1 The total liability of either Party shall not exceed "
                                                 "EUR 1,000,000 in any contract year"))
    assert (match.kind, match.closest.variant, match.score, match.flagged) == ("standard", "standard", 100.0, False)


def test_an_approved_fallback_is_a_fallback(index):
    match = index.match(Clause("7", "Liability", "The total liability of either party shall not exceed twice the "
                                                 "fees paid in the twelve months before the claim."))
    assert (match.kind, match.closest.variant, match.flagged) == ("fallback", "twice_the_fees", False)


def test_a_rewritten_clause_is_non_standard_with_its_closest_library_text_and_score(index):
    match = index.match(Clause("7", "Liability", "Neither party shall be liable for any loss whatsoever, save for fraud."))
    assert match.kind == "non_standard" and match.flagged
    assert match.closest.clause_id == LIABILITY and 0 < match.score < STANDARD_MIN_SCORE


def test_a_value_only_change_is_standard_with_the_changed_value(index):
    match = index.match(Clause("7", "Liability", "The total liability of either party shall not exceed EUR 250,000 "
                                                 "in any contract year."))
    assert (match.kind, match.closest.variant, match.score) == ("standard", "standard", 100.0)
    assert [(c.name, c.expected, c.found) for c in match.changed_values] == [("liability_cap", "EUR 1,000,000", "EUR 250,000")]
    assert match.flagged


def test_a_clause_that_names_its_library_clause_is_matched_to_that_clause_only(index):
    match = index.match(Clause("9", "Law", "This Agreement is governed by the laws of France.", clause_id=LAW))
    assert match.kind == "standard" and match.closest.clause_id == LAW
    assert [(c.expected, c.found) for c in match.changed_values] == [("Germany", "France")]


def test_unrendered_library_texts_match_any_values():
    index = DeviationIndex.build([LibraryText(LAW, 1, "standard", "Law", LAW_TEMPLATE)])
    match = index.match(Clause("1", "Law", "This Agreement is governed by the laws of Sweden."))
    assert match.kind == "standard" and match.values == {"governing_law": "Sweden"} and not match.changed_values


def test_normalisation():
    assert normalise("  3.2  “Fees”  — ARE due; ") == "fees are due"


def test_a_whole_version_is_checked_with_its_terms_against_the_standard_terms(index):
    doc = ContractDocument("MSA", (), (
        Clause("1", "Liability", "The total liability of either party shall not exceed EUR 250,000 in any contract year."),
        Clause("2", "Law", "This Agreement is governed by the laws of Germany."),
        Clause("3", "Extra", "The supplier shall paint the office every spring."),
    ))
    standard = NegotiatedTerms(liability_cap=Decimal(1_000_000), liability_cap_currency="EUR", governing_law="Germany")
    report = check(doc, index, standard)
    assert [(c.number, c.match.kind) for c in report.clauses] == [("1", "standard"), ("2", "standard"), ("3", "non_standard")]
    assert [c.number for c in report.flagged] == ["1", "3"]
    assert report.deviating_terms == (TermChange("liability_cap", Decimal(1_000_000), Decimal(250_000), "lower", True),)


# --------------------------------------------------------------------------------------------
# values


def test_values_are_extracted_by_the_template_tolerant_of_whitespace():
    assert extract_values("Pay within {{ days }} days to {{ bank }}.", "Pay  within\n45 days to Big Bank AG") == {
        "days": "45", "bank": "Big Bank AG"}
    assert extract_values("Pay within {{ days }} days.", "Pay whenever convenient.") == {}


@pytest.mark.parametrize("text, amount, currency", [
    ("EUR 1,000,000", "1000000", "EUR"), ("1.000.000 €", "1000000", "EUR"), ("1 million", "1000000", None),
    ("USD 2.5 million", "2500000", "USD"), ("€1,000,000.50", "1000000.50", "EUR"), ("1.000.000,50 EUR", "1000000.50", "EUR"),
    ("£ 750k", "750000", "GBP"),
])
def test_amounts(text, amount, currency):
    money = parse_amount(text)
    assert (money.amount, money.currency) == (Decimal(amount), currency)


def test_days_renewal_and_law():
    assert parse_days("within thirty (30) days of the invoice") == 30 and parse_days("45 calendar days") == 45
    assert parse_auto_renewal("This Agreement shall renew automatically for 12 months.") is True
    assert parse_auto_renewal("This Agreement shall not renew.") is False
    assert parse_auto_renewal("The term is 24 months.") is None
    assert parse_governing_law("governed by the laws of Germany, excluding its conflict rules") == "Germany"
    assert parse_governing_law("the laws of England and Wales.") == "England and Wales"


def test_terms_are_read_from_the_clauses():
    assert read_terms([
        "The total liability of either party shall not exceed EUR 1,000,000.",
        "Invoices are payable within 30 days of receipt.",
        "This Agreement shall renew automatically for successive 12-month periods.",
        "This Agreement is governed by the laws of Germany.",
    ]) == NegotiatedTerms(Decimal(1_000_000), "EUR", True, 30, "Germany")


def test_term_changes_and_which_are_deviations():
    before = NegotiatedTerms(Decimal(1_000_000), "EUR", True, 30, "Germany")
    after = NegotiatedTerms(Decimal(500_000), "EUR", False, 60, "France")
    assert [(c.field, c.direction, c.deviation) for c in changed_terms(before, after)] == [
        ("liability_cap", "lower", True), ("payment_days", "longer", True),
        ("auto_renewal", "switched_off", True), ("governing_law", "other", True)]
    kinder = NegotiatedTerms(Decimal(2_000_000), "EUR", True, 14, "germany")
    assert [(c.field, c.direction, c.deviation) for c in changed_terms(before, kinder)] == [
        ("liability_cap", "higher", False), ("payment_days", "shorter", False)]
