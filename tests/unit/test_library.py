"""The clause and template library without I/O: CEL conditions checked at save and evaluated on
deal fields, templates pinning clause versions, clause selection and variables, the Word writer."""

import io
import shutil
import subprocess
import time
import uuid
from decimal import Decimal

import docx
import pytest

from shared.backbone.errors import DomainError
from shared.events.library import ClauseVariant, TemplateVariable, VariantRule
from services.clm.adapters.word.writer import PRICING_HEADING, render_docx
from services.clm.domain.documents.model import ContractDocument, PricingAppendix, PricingRow
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.conditions import ConditionFailed, ConditionInvalid, compile_condition
from services.clm.domain.library.selection import compose_document, select_clauses
from services.clm.domain.library.template import SectionDraft, SlotDraft, Template, TemplateContent

EU_DEAL = {"region": "EU", "risk_tier": "high", "deal_size": Decimal("400000"), "term_months": 36, "industry": "retail"}
US_DEAL = {"region": "US", "risk_tier": "low", "deal_size": Decimal("50000"), "term_months": 6, "industry": "public_sector"}
VALUES = {"customer_name": "ACME Robotics", "liability_cap": "EUR 1,000,000", "payment_days": 30}


# -- conditions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ['region == "EU"', "deal_size > 250000.0", "deal_size > 250000",
                                    'risk_tier == "high" || term_months >= 12', 'region in ["EU", "EEA"]',
                                    'size(industry) > 0 && currency == "EUR"'])
def test_conditions_on_deal_fields_compile(source):
    assert compile_condition(source).fields


@pytest.mark.parametrize("source, says", [
    ('regon == "EU"', "regon, which is not a deal field"),
    ("deal_size >", "does not parse"),
    ('region == "EU" && deal_size > "x"', "No such overload"),
    ("region", "not true or false"),
    ('__import__("os").system("true")', "Undefined variable or function: '__import__'"),
    ("frobnicate(region)", "Undefined variable or function"),
    ("", "empty"),
])
def test_a_condition_that_does_not_compile_or_names_no_deal_field_is_refused(source, says):
    with pytest.raises(ConditionInvalid, match=says.replace("(", r"\(")):
        compile_condition(source)


def test_conditions_evaluate_on_the_deal_and_are_compiled_once():
    condition = compile_condition('region == "EU" && deal_size > 250000.0')
    assert condition.holds(EU_DEAL) and not condition.holds(US_DEAL)
    assert compile_condition('region == "EU" && deal_size > 250000.0') is condition
    with pytest.raises(ConditionFailed, match="names deal_size, which the deal does not give"):
        condition.holds({"region": "EU"})


# -- templates and selection ---------------------------------------------------------------------

def clause(key: str, text: str, fallbacks=()) -> Clause:
    return Clause.create(uuid.uuid4(), key=key, title=key.replace("_", " ").capitalize(), text=text,
                         fallbacks=[ClauseVariant(name=n, text=t) for n, t in fallbacks])


@pytest.fixture
def library():
    clauses = {
        "payment": clause("payment", "{{ customer_name }} pays within {{ payment_days }} days.",
                          [("public_sector", "{{ customer_name }} pays within 60 days.")]),
        "payment_large_deal": clause("payment_large_deal", "Milestone invoicing for {{ customer_name }}."),
        "liability": clause("liability", "Liability is limited to {{ liability_cap }}."),
        "high_risk_liability": clause("high_risk_liability", "Also data loss, up to twice {{ liability_cap }}."),
        "eu_data_protection": clause("eu_data_protection", "Processing under Article 28 GDPR."),
    }
    return clauses


def content(library, **overrides) -> TemplateContent:
    c = {k: v.latest.clause_id for k, v in library.items()}
    sections = (
        SectionDraft("Payment", (
            SlotDraft(c["payment"], include_when="deal_size <= 250000.0",
                      variants=(VariantRule(when='industry == "public_sector"', use="public_sector"),)),
            SlotDraft(c["payment_large_deal"], include_when="deal_size > 250000.0"),
        )),
        SectionDraft("Risk", (
            SlotDraft(c["liability"]),
            SlotDraft(c["high_risk_liability"], include_when='risk_tier == "high"'),
            SlotDraft(c["eu_data_protection"], include_when='region == "EU"'),
        )),
    )
    variables = tuple(TemplateVariable(name=n, type=t) for n, t in
                      [("customer_name", "string"), ("payment_days", "integer"), ("liability_cap", "string")])
    return TemplateContent(**{"name": "MSA", "sections": sections, "variables": variables, **overrides})


def by_id(library) -> dict:
    return {c.latest.clause_id: c for c in library.values()}


def pinned(library) -> dict:
    return {(v.clause_id, v.version): v for c in library.values() for v in c.versions}


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value


def test_conditions_pick_the_eu_high_risk_and_large_deal_clauses(library):
    template = Template.create(uuid.uuid4(), "msa", content(library), by_id(library)).latest
    eu = select_clauses(template, pinned(library), EU_DEAL, VALUES)
    assert [(c.number, c.heading) for c in eu] == [("1", "Payment large deal"), ("2", "Liability"),
                                                   ("3", "High risk liability"), ("4", "Eu data protection")]
    assert eu[1].text == "Liability is limited to EUR 1,000,000." and eu[2].clause_version == 1
    us = select_clauses(template, pinned(library), US_DEAL, VALUES)
    assert [(c.heading, c.variant) for c in us] == [("Payment", "public_sector"), ("Liability", "standard")]
    assert us[0].text == "ACME Robotics pays within 60 days."


def test_a_template_pins_the_clause_versions_it_was_saved_with(library):
    template = Template.create(uuid.uuid4(), "msa", content(library), by_id(library)).latest
    library["liability"].publish(title="Liability", text="Liability is unlimited.", fallbacks=[])
    assert {s.clause_version for section in template.sections for s in section.slots} == {1}
    texts = [c.text for c in select_clauses(template, pinned(library), EU_DEAL, VALUES)]
    assert "Liability is limited to EUR 1,000,000." in texts and "Liability is unlimited." not in texts
    newer = Template(template.template_id.hex)
    assert newer.version == 0  # a fresh aggregate: only a new template version would pin version 2


def test_a_template_naming_an_unknown_clause_is_refused_naming_the_slot(library):
    unknown = uuid.uuid4()
    bad = content(library, sections=(SectionDraft("X", (SlotDraft(unknown),)),))
    error = refusal(lambda: Template.create(uuid.uuid4(), "nda", bad, by_id(library)))
    assert (error.rule, error.field) == ("template.clause_unknown", "sections[0].slots[0].clause_id")


def test_a_condition_that_does_not_compile_is_refused_naming_the_clause(library):
    liability = library["liability"].latest.clause_id
    bad = content(library, sections=(SectionDraft("X", (SlotDraft(liability, include_when='regon == "EU"'),)),))
    error = refusal(lambda: Template.create(uuid.uuid4(), "msa", bad, by_id(library)))
    assert (error.rule, error.field, error.extra["clause"]) == ("template.condition_invalid",
                                                               "sections[0].slots[0].include_when", "liability")
    assert "regon" in error.extra["error"]


def test_variants_and_variables_a_template_uses_must_exist(library):
    payment = library["payment"].latest.clause_id
    unknown_variant = content(library, sections=(SectionDraft("X", (
        SlotDraft(payment, variants=(VariantRule(when='region == "EU"', use="eu"),)),)),))
    assert refusal(lambda: Template.create(uuid.uuid4(), "msa", unknown_variant, by_id(library))).rule == "template.variant_unknown"
    undeclared = content(library, variables=())
    error = refusal(lambda: Template.create(uuid.uuid4(), "msa", undeclared, by_id(library)))
    assert error.rule == "template.variable_undeclared" and error.extra["variables"] == ["customer_name", "payment_days"]


def test_a_placeholder_without_a_value_is_refused_naming_clause_and_variable(library):
    optional = content(library, variables=(TemplateVariable(name="customer_name"), TemplateVariable(name="payment_days", type="integer"),
                                           TemplateVariable(name="liability_cap", required=False)))
    template = Template.create(uuid.uuid4(), "msa", optional, by_id(library)).latest
    error = refusal(lambda: select_clauses(template, pinned(library), EU_DEAL, {"customer_name": "ACME", "payment_days": 30}))
    assert (error.rule, error.field, error.extra["clause"]) == ("draft.variable_unresolved", "variables.liability_cap", "liability")
    missing = refusal(lambda: select_clauses(template, pinned(library), EU_DEAL, {"customer_name": "ACME"}))
    assert (missing.rule, missing.field) == ("draft.variable_required", "variables.payment_days")
    wrong = refusal(lambda: select_clauses(template, pinned(library), EU_DEAL, {**VALUES, "payment_days": "thirty"}))
    assert wrong.rule == "draft.variable_invalid"


@pytest.mark.parametrize("text", ["{{ customer_name.__class__.__mro__ }}", "{% for i in range(100000) %}x{% endfor %}",
                                  "{{ customer_name | upper }}", "{{ lipsum() }}"])
def test_a_clause_text_holds_placeholders_and_nothing_else_of_the_template_language(text):
    error = refusal(lambda: clause("sneaky", text))
    assert error.rule == "clause.text_invalid" and "only {{ name }} placeholders" in error.message


def test_clause_texts_are_checked_and_their_variables_derived():
    c = clause("payment", "Within {{ payment_days }} days", [("slow", "{{ customer_name }}: {{ payment_days }}")])
    assert c.latest.variables == ["customer_name", "payment_days"]
    assert refusal(lambda: clause("broken", "{{ unclosed")).rule == "clause.text_invalid"
    assert refusal(lambda: clause("twice", "x", [("a", "1"), ("a", "2")])).rule == "clause.variant_duplicate"
    c.publish(title="Payment", text="Within 45 days", fallbacks=[])
    assert [v.version for v in c.versions] == [1, 2] and c.versions[0].text == "Within {{ payment_days }} days"


# -- the Word document -----------------------------------------------------------------------------

def document(library) -> ContractDocument:
    template = Template.create(uuid.uuid4(), "order_form", content(library, pricing_appendix=True), by_id(library)).latest
    pricing = PricingAppendix("EUR", (PricingRow("SUP-PREM", "Premium support", Decimal(2), Decimal("1200.00"),
                                                 Decimal(10), Decimal("2160.00")),), Decimal("2160.00"))
    return compose_document(template, pinned(library), title="Order form ACME", parties=(("customer", "ACME Robotics"),
                            ("vendor", "Initech")), deal=EU_DEAL, variables=VALUES, pricing=pricing)


def test_the_docx_gives_back_title_parties_numbered_clauses_and_the_pricing_table(library):
    doc = document(library)
    word = docx.Document(io.BytesIO(render_docx(doc)))
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs]
    assert paragraphs[0] == ("Title", "Order form ACME")
    assert ("List Bullet", "ACME Robotics (customer)") in paragraphs
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == [f"{c.number}. {c.heading}" for c in doc.clauses] + [PRICING_HEADING]
    for c in doc.clauses:
        at = paragraphs.index(("Heading 1", f"{c.number}. {c.heading}"))
        assert "\n".join(text for _, text in paragraphs[at + 1:at + 1 + len(c.text.split("\n"))]) == c.text
    rows = [[cell.text for cell in row.cells] for row in word.tables[0].rows]
    assert rows[1] == ["SUP-PREM", "Premium support", "2", "1,200.00", "10", "2,160.00"] and rows[-1][-1] == "2,160.00"


def test_a_template_with_a_pricing_appendix_needs_the_quote_lines(library):
    template = Template.create(uuid.uuid4(), "order_form", content(library, pricing_appendix=True), by_id(library)).latest
    error = refusal(lambda: compose_document(template, pinned(library), title="x", parties=(), deal=EU_DEAL,
                                             variables=VALUES, pricing=None))
    assert error.rule == "draft.pricing_missing"


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
def test_libreoffice_opens_the_docx_and_converts_it_to_pdf(library, tmp_path):
    source = tmp_path / "order_form.docx"
    source.write_bytes(render_docx(document(library)))
    started = time.perf_counter()
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    pdf = tmp_path / "order_form.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    print(f"LibreOffice converted the .docx in {time.perf_counter() - started:.1f}s")
