"""Uploads read into clauses (adapters/word/reader.py), and bad uploads refused before parsing."""

import io
import os
import zipfile
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from services.clm.adapters.word.reader import (
    UPLOAD_MACROS, UPLOAD_NOT_DOCX, UPLOAD_TOO_LARGE, UPLOAD_ZIP_BOMB, read_docx,
)
from shared.backbone.app import STATUS_OF
from shared.backbone.errors import DomainError


def saved(word) -> bytes:
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def clauses(doc):
    return [(c.number, c.heading, c.text) for c in doc.clauses]


def as_the_writer_renders() -> bytes:
    word = Document()
    word.add_heading("Master Services Agreement", level=0)
    word.add_paragraph("Between")
    word.add_paragraph("Acme GmbH (Customer)", style="List Bullet")
    word.add_paragraph("Beta Ltd (Supplier)", style="List Bullet")
    word.add_heading("1. Definitions", level=1)
    word.add_paragraph("Words have the meanings given.")
    word.add_paragraph("Headings are for convenience.")
    word.add_heading("2. Liability", level=1)
    word.add_paragraph("The total liability shall not exceed EUR 1,000,000.")
    word.add_heading("Appendix: Pricing", level=1)
    word.add_paragraph("All amounts in EUR.")
    table = word.add_table(rows=1, cols=6)
    for cell, title in zip(table.rows[0].cells, ("SKU", "Product", "Quantity", "Unit price", "Discount %", "Net amount")):
        cell.text = title
    for cell, value in zip(table.add_row().cells, ("A-1", "Widget", "2", "1,200.00", "10", "2,160.00")):
        cell.text = value
    total = table.add_row().cells
    total[0].text, total[-1].text = "Total", "2,160.00"
    return saved(word)


def test_a_document_as_the_writer_renders_it_reads_back_into_title_parties_clauses_and_pricing():
    doc = read_docx(as_the_writer_renders())
    assert doc.title == "Master Services Agreement"
    assert doc.parties == (("Customer", "Acme GmbH"), ("Supplier", "Beta Ltd"))
    assert clauses(doc) == [
        ("1", "Definitions", "Words have the meanings given.\nHeadings are for convenience."),
        ("2", "Liability", "The total liability shall not exceed EUR 1,000,000."),
    ]
    assert doc.pricing.currency == "EUR" and doc.pricing.total == Decimal("2160.00")
    row = doc.pricing.rows[0]
    assert (row.sku, row.quantity, row.unit_price, row.discount_percent) == ("A-1", 2, Decimal("1200.00"), 10)


@pytest.mark.parametrize("heading", ["3. Audit", "3 Audit", "Clause 3 – Audit", "Article 3: Audit", "§ 3 Audit"])
def test_numbered_headings_without_heading_styles_split_clauses(heading):
    word = Document()
    word.add_paragraph("Supply Agreement")
    word.add_paragraph(heading.replace("3", "1").replace("Audit", "Scope"))
    word.add_paragraph("The supplier supplies.")
    word.add_paragraph("1.1 Sub-numbered body text stays body text.")
    word.add_paragraph(heading)
    word.add_paragraph("The customer may audit once a year.")
    doc = read_docx(saved(word))
    assert doc.title == "Supply Agreement"
    assert clauses(doc) == [("1", "Scope", "The supplier supplies.\n1.1 Sub-numbered body text stays body text."),
                            ("3", "Audit", "The customer may audit once a year.")]


def test_word_auto_numbered_headings_are_numbered_in_order():
    word = Document()
    word.add_heading("Agreement", level=0)
    for heading in ("Scope", "Fees"):
        paragraph = word.add_heading(heading, level=1)
        num = etree.SubElement(paragraph._p.get_or_add_pPr(), qn("w:numPr"))
        etree.SubElement(num, qn("w:numId")).set(qn("w:val"), "1")
        word.add_paragraph(f"{heading} text.")
    assert clauses(read_docx(saved(word))) == [("1", "Scope", "Scope text."), ("2", "Fees", "Fees text.")]


def test_when_headings_and_numbering_are_lost_bold_or_capital_short_paragraphs_are_headings():
    word = Document()
    word.add_paragraph("Agreement")
    word.add_paragraph().add_run("Scope").bold = True
    word.add_paragraph("The supplier supplies.")
    word.add_paragraph("FEES")
    word.add_paragraph("The customer pays.")
    assert clauses(read_docx(saved(word))) == [("1", "Scope", "The supplier supplies."), ("2", "FEES", "The customer pays.")]


def test_failing_that_each_paragraph_is_a_clause_numbered_in_order():
    word = Document()
    for text in ("Agreement", "The supplier supplies the goods.", "The customer pays the fees."):
        word.add_paragraph(text)
    doc = read_docx(saved(word))
    assert doc.title == "Agreement"
    assert clauses(doc) == [("1", "", "The supplier supplies the goods."), ("2", "", "The customer pays the fees.")]


def test_a_table_that_is_not_a_pricing_appendix_is_kept_as_notes():
    word = Document()
    word.add_heading("1. Contacts", level=1)
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Name", "Email"
    doc = read_docx(saved(word))
    assert doc.pricing is None and "Name | Email" in doc.notes


def _revision(kind: str, text: str | None = None) -> etree._Element:
    mark = etree.Element(qn(f"w:{kind}"), {qn("w:id"): "1", qn("w:author"): "Other side", qn("w:date"): "2026-01-01T00:00:00Z"})
    if text is not None:
        run = etree.SubElement(mark, qn("w:r"))
        etree.SubElement(run, qn("w:delText" if kind == "del" else "w:t")).text = text
    return mark


def test_tracked_changes_in_an_upload_are_read_as_accepted():
    word = Document()
    word.add_heading("1. Payment", level=1)
    paragraph = word.add_paragraph("Invoices are payable within ")
    paragraph._p.append(_revision("del", "30"))
    paragraph._p.append(_revision("ins", "60"))
    paragraph.add_run(" days.")
    gone = word.add_paragraph()
    gone._p.append(_revision("del", "A deleted paragraph."))
    etree.SubElement(gone._p.get_or_add_pPr(), qn("w:rPr")).append(_revision("del"))  # its paragraph mark too
    word.add_paragraph("Last paragraph.")
    content = saved(word)
    assert clauses(read_docx(content)) == [("1", "Payment", "Invoices are payable within 60 days.\nLast paragraph.")]
    assert clauses(read_docx(content, tracked_changes="reject")) == [
        ("1", "Payment", "Invoices are payable within 30 days.\nA deleted paragraph.\nLast paragraph.")]


# --------------------------------------------------------------------------------------------
# bad uploads


def refused(content: bytes, rule: str, **limits) -> DomainError:
    with pytest.raises(DomainError) as caught:
        read_docx(content, **limits)
    assert caught.value.rule == rule, caught.value
    return caught.value


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 40,
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,  # a .doc (OLE2)
    b"",
], ids=["random", "pdf", "doc", "empty"])
def test_what_is_not_a_zip_is_not_a_docx(content):
    assert STATUS_OF[refused(content, UPLOAD_NOT_DOCX).kind] == 422


def test_a_spreadsheet_renamed_docx_is_not_a_docx():
    from openpyxl import Workbook
    book = Workbook()
    book.active["A1"] = "not a contract"
    out = io.BytesIO()
    book.save(out)
    refused(out.getvalue(), UPLOAD_NOT_DOCX)


def test_a_zip_without_a_word_document_is_not_a_docx():
    refused(zipped({"[Content_Types].xml": b"<Types/>", "readme.txt": b"hello"}), UPLOAD_NOT_DOCX)


def test_a_truncated_docx_is_not_a_docx():
    refused(as_the_writer_renders()[:2000], UPLOAD_NOT_DOCX)


def test_a_macro_enabled_document_is_refused():
    content = as_the_writer_renders()
    source = zipfile.ZipFile(io.BytesIO(content))
    entries = {n: source.read(n) for n in source.namelist()}
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml")
    refused(zipped(entries), UPLOAD_MACROS)


def test_an_upload_over_the_limit_is_413_with_the_limit():
    error = refused(as_the_writer_renders(), UPLOAD_TOO_LARGE, max_bytes=10_000)
    assert STATUS_OF[error.kind] == 413 and error.extra == {"limit_bytes": 10_000}


def test_the_default_limit_is_25_mb():
    refused(b"PK\x03\x04" + b"\x00" * (25 * 1024 * 1024), UPLOAD_TOO_LARGE)


def test_a_zip_bomb_is_refused_from_its_central_directory():
    """1 GB of zeros deflates to ~1 MB; written streaming, it takes about a second."""
    out = io.BytesIO()
    chunk = b"\x00" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", b"<Types/>")
        with package.open("word/document.xml", "w", force_zip64=True) as entry:
            for _ in range(1024):
                entry.write(chunk)
    assert len(out.getvalue()) < 10 * 1024 * 1024
    refused(out.getvalue(), UPLOAD_ZIP_BOMB)


def test_a_zip_whose_directory_lies_about_an_entry_is_refused():
    """The central directory claims document.xml's compressed size is its full size (ratio 1:1)
    while it is ~1000:1: the directory checks pass, decompressing it does not."""
    content = as_the_writer_renders()
    source = zipfile.ZipFile(io.BytesIO(content))
    entries = {n: source.read(n) for n in source.namelist()}
    entries["word/document.xml"] = b"<w:document xmlns:w='x'>" + b" " * (3 * 1024 * 1024) + b"</w:document>"
    bomb = bytearray(zipped(entries))
    info = zipfile.ZipFile(io.BytesIO(bytes(bomb))).getinfo("word/document.xml")
    at = _central_entry(bytes(bomb), "word/document.xml")
    bomb[at + 20:at + 24] = info.file_size.to_bytes(4, "little")  # compressed size, offset 20 of the entry
    refused(bytes(bomb), UPLOAD_NOT_DOCX, max_bytes=200_000)


def test_a_part_that_decompresses_beyond_the_cap_is_refused_while_streaming():
    """2 MB compressed ~40:1, under the ratio cap, so only the streaming cap (10x the upload limit) stops it."""
    content = as_the_writer_renders()
    source = zipfile.ZipFile(io.BytesIO(content))
    entries = {n: source.read(n) for n in source.namelist()}
    noise = b"".join(os.urandom(512).hex().encode() * 30 for _ in range(70))
    entries["word/document.xml"] = b"<w:document xmlns:w='x'><!--" + noise + b"--></w:document>"
    refused(zipped(entries), UPLOAD_ZIP_BOMB, max_bytes=100_000)


def _central_entry(content: bytes, name: str) -> int:
    at = 0
    while (at := content.find(b"PK\x01\x02", at)) >= 0:
        length = int.from_bytes(content[at + 28:at + 30], "little")
        if content[at + 46:at + 46 + length] == name.encode():
            return at
        at += 4
    raise AssertionError(name)
