"""The redline of two versions: the new version as .docx, in the writer's shape (title, parties,
"N. Heading" clauses, pricing table), carrying the differences from the old version as native
Word tracked changes by one author at one date. Accept all gives the new version, reject all the
old one; Word and LibreOffice list every change in their review pane.

Written with python-docx and lxml: the maintained packages that write tracked changes either
need an external runtime (python-redlines runs a .NET comparer), need Python 3.12 (docx-redline),
or edit runs of an existing document one search-and-replace at a time with the clock's date
(docx-revisions), none of which builds a document from a clause-level comparison."""

import datetime as dt
import io
from itertools import count

from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from services.clm.domain.documents.compare import PARAGRAPH, ClauseChange, WordOp, compare, word_diff
from services.clm.domain.documents.model import ContractDocument, DocumentClause, PricingAppendix

PRICING_HEADING = "Appendix: Pricing"
PRICING_COLUMNS = ("SKU", "Product", "Quantity", "Unit price", "Discount %", "Net amount")


def redline_docx(old: ContractDocument, new: ContractDocument, *, author: str, date: dt.datetime) -> bytes:
    word = Document()
    marks = _Revisions(author, date)
    _tracked(word, word_diff(old.title, new.title), "Title", marks)
    if old.parties or new.parties:
        word.add_paragraph("Between")
        _tracked(word, word_diff(_party_lines(old), _party_lines(new)), "List Bullet", marks)
    for change in compare(old, new).changes:
        _tracked(word, _heading_ops(change), "Heading 1", marks)
        _tracked(word, _text_ops(change), None, marks)
    if new.pricing is not None:
        _pricing(word, new.pricing)
    settings = word.settings.element
    if settings.find(qn("w:trackRevisions")) is None:
        settings.insert(0, etree.Element(qn("w:trackRevisions")))  # further edits are tracked too
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _party_lines(doc: ContractDocument) -> str:
    return "\n".join(f"{name} ({role})" for role, name in doc.parties)


def _heading_line(clause: DocumentClause | None) -> str:
    return f"{clause.number}. {clause.heading}" if clause is not None else ""


def _heading_ops(change: ClauseChange) -> tuple[WordOp, ...]:
    return word_diff(_heading_line(change.old), _heading_line(change.new))


def _text_ops(change: ClauseChange) -> tuple[WordOp, ...]:
    return word_diff(change.old.text if change.old else "", change.new.text if change.new else "")


class _Revisions:
    def __init__(self, author: str, date: dt.datetime):
        self.author = author
        self.date = date.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._ids = count(1)

    def element(self, kind: str) -> etree._Element:
        mark = etree.Element(qn(f"w:{kind}"))
        mark.set(qn("w:id"), str(next(self._ids)))
        mark.set(qn("w:author"), self.author)
        mark.set(qn("w:date"), self.date)
        return mark


def _tracked(word, ops: tuple[WordOp, ...], style: str | None, marks: _Revisions) -> None:
    """Paragraphs of `style` holding the ops as runs. A PARAGRAPH token only in the old text is a
    deleted paragraph mark (the paragraphs merge on accept), one only in the new text an inserted
    mark (they merge on reject); the space the merge needs is a run of the opposite kind."""
    if not ops:
        return
    paragraph = word.add_paragraph(style=style)
    at_start, joiner = True, None
    one_kind = len({o.op for o in ops}) == 1
    for op in ops:
        for token in op.words:
            if token == PARAGRAPH:
                if op.op != "equal":
                    _mark_paragraph(paragraph, "del" if op.op == "delete" else "ins", marks)
                    joiner = None if one_kind else "ins" if op.op == "delete" else "del"
                paragraph = word.add_paragraph(style=style)
                at_start = True
                continue
            if at_start and joiner:
                _run(paragraph, " ", joiner, marks)
            _run(paragraph, token if at_start else f" {token}", op.op, marks)
            at_start, joiner = False, None
    if all(o.op == "delete" for o in ops):
        _mark_paragraph(paragraph, "del", marks)  # a removed clause leaves no empty paragraph behind
    elif all(o.op == "insert" for o in ops):
        _mark_paragraph(paragraph, "ins", marks)


def _run(paragraph, text: str, op: str, marks: _Revisions) -> None:
    run = etree.Element(qn("w:r"))
    t = etree.SubElement(run, qn("w:delText" if op in ("delete", "del") else "w:t"))
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    if op == "equal":
        paragraph._p.append(run)
        return
    wrapper = marks.element("del" if op in ("delete", "del") else "ins")
    wrapper.append(run)
    paragraph._p.append(wrapper)


def _mark_paragraph(paragraph, kind: str, marks: _Revisions) -> None:
    props = paragraph._p.get_or_add_pPr()
    run_props = props.find(qn("w:rPr"))
    if run_props is None:
        run_props = etree.SubElement(props, qn("w:rPr"))
    if run_props.find(qn(f"w:{kind}")) is None:
        run_props.append(marks.element(kind))


def _pricing(word, pricing: PricingAppendix) -> None:
    word.add_heading(PRICING_HEADING, level=1)
    word.add_paragraph(f"All amounts in {pricing.currency}.")
    table = word.add_table(rows=1, cols=len(PRICING_COLUMNS))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, PRICING_COLUMNS):
        cell.text = title
    for row in pricing.rows:
        values = (row.sku, row.product, row.quantity, row.unit_price, row.discount_percent, row.net_amount)
        for cell, value in zip(table.add_row().cells, values):
            cell.text = value if isinstance(value, str) else f"{value:,}"
    total = table.add_row().cells
    total[0].text, total[-1].text = "Total", f"{pricing.total:,}"
