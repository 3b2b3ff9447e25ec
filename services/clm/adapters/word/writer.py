"""Renders a ContractDocument as .docx with python-docx: the title, the parties, each clause as a
"N. Heading" paragraph in the Heading 1 style (what a reader looks for) followed by its
paragraphs, and the pricing appendix as a table."""

import datetime as dt
import io

from docx import Document
from docx.shared import Pt

from services.clm.domain.documents.model import ContractDocument, PricingAppendix

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PRICING_HEADING = "Appendix: Pricing"
PRICING_COLUMNS = ("SKU", "Product", "Quantity", "Unit price", "Discount %", "Net amount")
# Fixed document properties: the same document renders to the same text (the zip's own dates differ).
_DOCUMENT_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def render_docx(doc: ContractDocument) -> bytes:
    word = Document()
    word.core_properties.title = doc.title
    word.core_properties.author = "clm-platform"
    word.core_properties.created = word.core_properties.modified = _DOCUMENT_DATE
    word.core_properties.last_modified_by = "clm-platform"
    word.styles["Normal"].font.size = Pt(11)
    word.add_heading(doc.title, level=0)
    if doc.parties:
        word.add_paragraph("Between")
        for role, name in doc.parties:
            word.add_paragraph(f"{name} ({role})", style="List Bullet")
    for clause in doc.clauses:
        word.add_heading(f"{clause.number}. {clause.heading}", level=1)
        for paragraph in clause.text.split("\n"):
            word.add_paragraph(paragraph)
    if doc.pricing is not None:
        _pricing(word, doc.pricing)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _pricing(word, pricing: PricingAppendix) -> None:
    word.add_heading(PRICING_HEADING, level=1)
    word.add_paragraph(f"All amounts in {pricing.currency}.")
    table = word.add_table(rows=1, cols=len(PRICING_COLUMNS))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, PRICING_COLUMNS):
        cell.text = title
    for row in pricing.rows:
        values = (row.sku, row.product, _number(row.quantity), _number(row.unit_price), _number(row.discount_percent),
                  _number(row.net_amount))
        for cell, value in zip(table.add_row().cells, values):
            cell.text = value
    total = table.add_row().cells
    total[0].text, total[-1].text = "Total", _number(pricing.total)


def _number(value) -> str:
    return f"{value:,}"  # a Decimal keeps its scale: 1,200.00 stays with its cents, 2 stays 2
