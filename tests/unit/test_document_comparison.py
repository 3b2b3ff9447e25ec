"""Two versions compared clause by clause (documents/compare.py) and as a redline .docx with
native tracked changes (adapters/word/redline.py)."""

import datetime as dt
import io
import json
import shutil
import subprocess
import zipfile
from uuid import uuid4

import pytest
from docx import Document
from docx.oxml.ns import qn

from services.clm.adapters.word.reader import read_docx
from services.clm.adapters.word.redline import redline_docx
from services.clm.domain.documents.compare import compare, word_diff
from services.clm.domain.documents.model import ContractDocument, DocumentClause as Clause

PARTIES = (("Customer", "Acme GmbH"), ("Supplier", "Beta Ltd"))
OLD = ContractDocument("Master Services Agreement", PARTIES, (
    Clause("1", "Definitions", "Words have the meanings given.\nHeadings are for convenience only."),
    Clause("2", "Liability", "The total liability shall not exceed EUR 1,000,000 per contract year."),
    Clause("3", "Audit", "The customer may audit the supplier once a year."),
    Clause("4", "Governing law", "This agreement is governed by the laws of Germany."),
))
NEW = ContractDocument("Master Services Agreement", PARTIES, (
    Clause("1", "Definitions", "Words have  the meanings given.\nHeadings are for convenience only."),
    Clause("2", "Limitation of liability", "The total liability shall not exceed EUR 500,000 per contract year.\n"
                                            "Nothing limits liability for fraud."),
    Clause("3", "Governing law", "This agreement is governed by the laws of England and Wales."),
    Clause("4", "Escrow", "The supplier deposits the source code with an escrow agent."),
))
AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def test_clauses_are_aligned_and_classified():
    kinds = [(c.kind, c.old and c.old.heading, c.new and c.new.heading, c.matched_by) for c in compare(OLD, NEW).changes]
    assert kinds == [
        ("unchanged", "Definitions", "Definitions", "number_heading"),  # whitespace only
        ("changed", "Liability", "Limitation of liability", "similarity"),
        ("removed", "Audit", None, None),
        ("changed", "Governing law", "Governing law", "similarity"),  # renumbered 4 -> 3
        ("added", None, "Escrow", None),
    ]


def test_a_changed_clause_carries_a_word_level_diff():
    liability = compare(OLD, NEW).changes[1]
    changed = [(op.op, op.text) for op in liability.text_diff if op.op != "equal"]
    assert changed == [("delete", "1,000,000"), ("insert", "500,000"), ("insert", "\nNothing limits liability for fraud.")]
    assert [(op.op, op.text) for op in liability.heading_diff] == [("delete", "Liability"), ("insert", "Limitation of liability")]


def test_clauses_of_the_library_align_by_clause_id_whatever_their_heading_or_place():
    ident = uuid4()
    old = ContractDocument("A", (), (Clause("1", "Fees", "Pay.", clause_id=ident), Clause("2", "Other", "x")))
    new = ContractDocument("A", (), (Clause("1", "Other", "x"), Clause("2", "Charges", "Pay now.", clause_id=ident)))
    changes = compare(old, new).changes
    assert [(c.kind, c.matched_by) for c in changes] == [("unchanged", "similarity"), ("changed", "clause_id")]


def test_dissimilar_clauses_are_a_removal_and_an_addition_and_none_is_matched_twice():
    old = ContractDocument("A", (), (Clause("1", "Fees", "The customer pays monthly in advance."),))
    new = ContractDocument("A", (), (Clause("1", "Escrow", "Source code goes to an escrow agent."),
                                     Clause("2", "Fees", "The customer pays monthly in advance.")))
    assert [c.kind for c in compare(old, new).changes] == ["added", "unchanged"]


def test_whitespace_and_line_breaks_inside_a_paragraph_are_no_change():
    assert [op.op for op in word_diff("a  b\tc", " a b c ")] == ["equal"]


def test_the_comparison_is_json():
    as_json = compare(OLD, NEW).as_json()
    assert json.loads(json.dumps(as_json))["changes"][1]["kind"] == "changed"


# --------------------------------------------------------------------------------------------
# the redline


def view(doc: ContractDocument):
    """What a reader sees: whitespace within a paragraph collapsed."""
    text = lambda t: "\n".join(" ".join(line.split()) for line in t.split("\n"))  # noqa: E731
    return doc.title, doc.parties, [(c.number, c.heading, text(c.text)) for c in doc.clauses]


@pytest.fixture(scope="module")
def redline() -> bytes:
    return redline_docx(OLD, NEW, author="Outside Counsel", date=AT)


def test_accept_all_gives_the_new_version_and_reject_all_the_old(redline):
    assert view(read_docx(redline)) == view(NEW)
    assert view(read_docx(redline, tracked_changes="reject")) == view(OLD)


def test_the_redline_holds_native_insertions_and_deletions_by_the_author_at_the_date(redline):
    body = Document(io.BytesIO(redline)).element.body
    insertions, deletions = body.findall(f".//{qn('w:ins')}"), body.findall(f".//{qn('w:del')}")
    assert insertions and deletions
    assert {(m.get(qn("w:author")), m.get(qn("w:date"))) for m in insertions + deletions} == {
        ("Outside Counsel", "2026-12-01T09:30:00Z")}
    ids = [m.get(qn("w:id")) for m in insertions + deletions]
    assert len(ids) == len(set(ids))
    deleted = "".join(t.text for t in body.iter(qn("w:delText")))
    assert "1,000,000" in deleted and "The customer may audit the supplier once a year." in deleted
    # the removed clause's paragraphs are deleted paragraphs, the added clause's inserted ones
    marks = [p.find(f"{qn('w:pPr')}/{qn('w:rPr')}") for p in body.iter(qn("w:p"))]
    assert any(m is not None and m.find(qn("w:del")) is not None for m in marks)
    assert any(m is not None and m.find(qn("w:ins")) is not None for m in marks)


def test_a_redline_of_identical_versions_has_no_changes():
    same = redline_docx(OLD, OLD, author="x", date=AT)
    body = Document(io.BytesIO(same)).element.body
    assert body.find(f".//{qn('w:ins')}") is None and body.find(f".//{qn('w:del')}") is None
    assert view(read_docx(same)) == view(OLD)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_the_redline_as_tracked_changes(redline, tmp_path):
    source = tmp_path / "redline.docx"
    source.write_bytes(redline)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "odt",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    content = zipfile.ZipFile(tmp_path / "redline.odt").read("content.xml").decode()
    assert content.count("<text:insertion>") >= 3 and content.count("<text:deletion>") >= 3
    assert "<dc:creator>Outside Counsel</dc:creator>" in content
