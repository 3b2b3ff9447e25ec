"""Reads an uploaded .docx into a ContractDocument: validated before anything is decompressed,
then parsed into clauses by the headings the template produced, with fallbacks for documents
that lost them. See docs/contracting/negotiation.md.

Only [Content_Types].xml, word/document.xml and word/styles.xml are ever decompressed, each
through a hard byte cap, with an XML parser that resolves no entities and fetches nothing.
Tracked changes are read as if all were accepted (or, on request, all rejected)."""

import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator, Literal

from lxml import etree

from services.clm.domain.documents.model import (
    ContractDocument, DocumentClause, PricingAppendix, PricingRow,
)
from services.clm.domain.documents.values import parse_amount
from shared.backbone.errors import invalid, too_large

UPLOAD_TOO_LARGE = "upload.too_large"
UPLOAD_NOT_DOCX = "upload.not_docx"
UPLOAD_ZIP_BOMB = "upload.zip_bomb"
UPLOAD_MACROS = "upload.macros_refused"

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all entries together, as the central directory states them
MAX_ENTRY_RATIO = 100  # uncompressed : compressed, for entries above RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1024 * 1024  # small XML parts legitimately compress 50:1 and more
MAX_ENTRIES = 2000

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_ENABLED = "application/vnd.ms-word.document.macroEnabled.main+xml"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def read_docx(content: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
              max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
              tracked_changes: Literal["accept", "reject"] = "accept") -> ContractDocument:
    parts = _open_package(content, max_bytes, max_uncompressed_bytes)
    styles = _heading_levels(parts.get("word/styles.xml"))
    blocks = list(_blocks(parts["word/document.xml"], styles, tracked_changes))
    return _document(blocks)


# --------------------------------------------------------------------------------------------
# the package, validated


def _open_package(content: bytes, max_bytes: int, max_uncompressed: int) -> dict[str, etree._Element]:
    if len(content) > max_bytes:
        raise too_large(UPLOAD_TOO_LARGE, f"the upload is {len(content)} bytes, more than the limit of {max_bytes}",
                        limit_bytes=max_bytes)
    if not content.startswith(b"PK\x03\x04"):
        raise _not_docx("it is not a ZIP package (a .doc, a PDF or another format)")
    try:
        package = zipfile.ZipFile(io.BytesIO(content))
        entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_docx("its ZIP directory cannot be read") from None
    if len(entries) > MAX_ENTRIES:
        raise _bomb(f"it has {len(entries)} entries, more than {MAX_ENTRIES}")
    stated = sum(e.file_size for e in entries)
    if stated > max_uncompressed:
        raise _bomb(f"it would decompress to {stated} bytes, more than {max_uncompressed}")
    for entry in entries:
        if entry.file_size > RATIO_FLOOR_BYTES and entry.file_size > MAX_ENTRY_RATIO * max(entry.compress_size, 1):
            raise _bomb(f"{entry.filename} is compressed {entry.file_size // max(entry.compress_size, 1)}:1")
    names = {e.filename: e for e in entries}
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        raise _not_docx("it is not a Word document (no [Content_Types].xml or word/document.xml)")

    cap = max(max_bytes, 1) * 10  # what any one part may decompress to, whatever its header says
    types = _xml(package, names["[Content_Types].xml"], cap)
    main = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{{{CT}}}Override")}.get("/word/document.xml")
    if main == MACRO_ENABLED or "word/vbaProject.bin" in names:
        raise invalid(UPLOAD_MACROS, "macro-enabled Word documents (.docm) are refused; save it as .docx")
    if main != DOCUMENT_MAIN:
        raise _not_docx(f"its main part is {main or 'untyped'}, not a Word document")
    parts = {"word/document.xml": _xml(package, names["word/document.xml"], cap)}
    if "word/styles.xml" in names:
        parts["word/styles.xml"] = _xml(package, names["word/styles.xml"], cap)
    return parts


def _xml(package: zipfile.ZipFile, entry: zipfile.ZipInfo, cap: int) -> etree._Element:
    data = bytearray()
    try:
        with package.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                data += chunk
                if len(data) > cap or len(data) > MAX_UNCOMPRESSED_BYTES:
                    raise _bomb(f"{entry.filename} decompresses beyond {cap} bytes")
    except (zipfile.BadZipFile, EOFError, NotImplementedError, ValueError, OSError, RuntimeError):
        raise _not_docx(f"{entry.filename} cannot be decompressed") from None
    try:
        return etree.fromstring(bytes(data), _PARSER)
    except etree.XMLSyntaxError:
        raise _not_docx(f"{entry.filename} is not well-formed XML") from None


def _not_docx(why: str):
    return invalid(UPLOAD_NOT_DOCX, f"the upload is not a .docx: {why}", field="file")


def _bomb(why: str):
    return invalid(UPLOAD_ZIP_BOMB, f"the upload is refused as a zip bomb: {why}", field="file")


# --------------------------------------------------------------------------------------------
# paragraphs and tables, with tracked changes resolved


@dataclass
class _Paragraph:
    text: str
    level: int | None  # 0 = title, 1.. = heading level; None = body
    bold: bool = False
    numbered: bool = False  # Word auto-numbering (w:numPr) on the paragraph or its style


@dataclass
class _Table:
    rows: list[list[str]] = field(default_factory=list)


_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _heading_levels(styles: etree._Element | None) -> dict[str, tuple[int, bool]]:
    """styleId -> (heading level, numbered) for Title, the built-in "heading N" styles (their names
    are English whatever the UI language) and styles with an outline level."""
    levels: dict[str, tuple[int, bool]] = {}
    if styles is None:
        return levels
    for style in styles.iter(_w("style")):
        style_id = style.get(_w("styleId"))
        name = style.find(_w("name"))
        name = (name.get(_w("val")) if name is not None else "") or ""
        outline = style.find(f"{_w('pPr')}/{_w('outlineLvl')}")
        numbered = style.find(f"{_w('pPr')}/{_w('numPr')}") is not None
        if name.lower() == "title":
            levels[style_id] = (0, numbered)
        elif found := _HEADING_STYLE.match(name):
            levels[style_id] = (int(found[1]), numbered)
        elif outline is not None and (outline.get(_w("val")) or "9").isdigit() and int(outline.get(_w("val"))) < 9:
            levels[style_id] = (int(outline.get(_w("val"))) + 1, numbered)
    return levels


def _blocks(document: etree._Element, styles, mode: str) -> Iterator[_Paragraph | _Table]:
    body = document.find(_w("body"))
    if body is None:
        return
    carried = ""  # text of paragraphs whose mark was removed: they join the next paragraph
    for element in _flatten(body):
        if element.tag == _w("tbl"):
            yield _Table([[_cell_text(c, mode) for c in row.iter(_w("tc"))] for row in element.iter(_w("tr"))
                          if not _row_removed(row, mode)])
            continue
        text = carried + _text(element, mode)
        if _mark_removed(element, mode):
            carried = text
            continue
        carried = ""
        yield _paragraph(element, text, styles)
    if carried.strip():
        yield _Paragraph(carried, None)


def _flatten(body: etree._Element) -> Iterator[etree._Element]:
    """Body paragraphs and tables in order, through content controls (w:sdt)."""
    for child in body:
        if child.tag in (_w("p"), _w("tbl")):
            yield child
        elif child.tag == _w("sdt"):
            content = child.find(_w("sdtContent"))
            if content is not None:
                yield from _flatten(content)


def _removed(kind: str, mode: str) -> bool:
    """Does this revision's content vanish in the chosen view?"""
    return (kind in ("del", "moveFrom")) if mode == "accept" else (kind in ("ins", "moveTo"))


def _text(paragraph: etree._Element, mode: str) -> str:
    out = []
    for node in paragraph.iter(_w("t"), _w("delText"), _w("tab"), _w("br"), _w("cr"), _w("noBreakHyphen")):
        if any(_removed(etree.QName(a).localname, mode) for a in node.iterancestors(_w("ins"), _w("del"),
                                                                                   _w("moveFrom"), _w("moveTo"))):
            continue
        if node.tag in (_w("t"), _w("delText")):
            out.append(node.text or "")
        elif node.tag == _w("noBreakHyphen"):
            out.append("-")
        else:
            out.append(" ")
    return "".join(out)


def _mark_removed(paragraph: etree._Element, mode: str) -> bool:
    mark = paragraph.find(f"{_w('pPr')}/{_w('rPr')}")
    if mark is None:
        return False
    return any(mark.find(_w(kind)) is not None and _removed(kind, mode) for kind in ("ins", "del"))


def _row_removed(row: etree._Element, mode: str) -> bool:
    props = row.find(_w("trPr"))
    return props is not None and any(props.find(_w(k)) is not None and _removed(k, mode) for k in ("ins", "del"))


def _cell_text(cell: etree._Element, mode: str) -> str:
    return " ".join(" ".join(_text(p, mode).split()) for p in cell.iter(_w("p"))).strip()


def _paragraph(element: etree._Element, text: str, styles) -> _Paragraph:
    props = element.find(_w("pPr"))
    level, numbered = None, False
    if props is not None:
        style = props.find(_w("pStyle"))
        if style is not None and style.get(_w("val")) in styles:
            level, numbered = styles[style.get(_w("val"))]
        outline = props.find(_w("outlineLvl"))
        if level is None and outline is not None and (outline.get(_w("val")) or "").isdigit() \
                and int(outline.get(_w("val"))) < 9:
            level = int(outline.get(_w("val"))) + 1
        numbered = numbered or props.find(_w("numPr")) is not None
    runs = [r for r in element.iter(_w("r")) if "".join(t.text or "" for t in r.iter(_w("t"))).strip()]
    bold = bool(runs) and all(_bold(r) for r in runs)
    return _Paragraph(" ".join(text.split()), level, bold, numbered)


def _bold(run: etree._Element) -> bool:
    b = run.find(f"{_w('rPr')}/{_w('b')}")
    return b is not None and (b.get(_w("val")) or "true") not in ("0", "false", "off")


# --------------------------------------------------------------------------------------------
# clauses


# "1. Title", "1 Title", "Clause 1 – Title", "Article 2: Title", "§ 1 Title"
NUMBERED_HEADING = re.compile(
    r"^(?:(?:clause|article|section)\s+|§\s*)?(\d{1,3})(?:\.(?!\d))?\s*(?:[-–—:.]\s*)?(\S.*)$", re.IGNORECASE)
MAX_HEADING_WORDS = 12
PRICING_HEADING = re.compile(r"\b(?:pricing|price|fees|appendix|schedule)\b", re.IGNORECASE)


def _split_number(text: str) -> tuple[str | None, str]:
    found = NUMBERED_HEADING.match(text)
    return (found[1], found[2].strip()) if found else (None, text)


def _looks_like_heading(p: _Paragraph) -> bool:
    """Short, no closing full stop, and bold or all capitals (what a heading is once its style is lost)."""
    words = p.text.split()
    return 0 < len(words) <= MAX_HEADING_WORDS and not p.text.endswith((".", ";", ",", ":")) \
        and (p.bold or (p.text.isupper() and any(c.isalpha() for c in p.text)))


def _numbered_heading(p: _Paragraph) -> bool:
    number, rest = _split_number(p.text)
    words = rest.split()
    return number is not None and 0 < len(words) <= MAX_HEADING_WORDS and not rest.endswith((".", ";", ",")) \
        and rest[:1].isupper()


def _document(blocks: list) -> ContractDocument:
    paragraphs = [b for b in blocks if isinstance(b, _Paragraph) and b.text]
    title = next((p for p in paragraphs if p.level == 0), None)
    heading_levels = sorted({p.level for p in paragraphs if p.level})
    if heading_levels:
        top = heading_levels[0]
        is_heading = lambda p: p.level == top  # noqa: E731
    elif any(_numbered_heading(p) for p in paragraphs):
        is_heading = _numbered_heading
    elif sum(_looks_like_heading(p) for p in paragraphs[1:]) >= 1:
        is_heading = _looks_like_heading
    else:
        is_heading = None  # each paragraph after the title a clause of its own

    if title is None and paragraphs and (is_heading is None or not is_heading(paragraphs[0])):
        title = paragraphs[0]

    preamble: list[str] = []
    clauses: list[list] = []  # [number, heading, [paragraphs]]
    pricing, notes = None, []
    for block in blocks:
        if block is title:
            continue
        if isinstance(block, _Table):
            found = _pricing(block, clauses[-1][2] if clauses else preamble)
            if found is not None and clauses and PRICING_HEADING.search(clauses[-1][1]):
                notes.append(clauses.pop()[1])
                pricing = found
            elif found is not None:
                pricing = found
            else:
                notes += [" | ".join(cells) for cells in block.rows if any(cells)]
            continue
        if not block.text:
            continue
        if is_heading is None:
            clauses.append([None, "", [block.text]])
        elif is_heading(block):
            number, heading = _split_number(block.text)
            clauses.append([number, heading, []])
        elif clauses:
            clauses[-1][2].append(block.text)
        else:
            preamble.append(block.text)

    parties, rest = _parties(preamble)
    numbered = [DocumentClause(number=number or str(i), heading=heading, text="\n".join(body))
                for i, (number, heading, body) in enumerate(clauses, start=1)]
    return ContractDocument(title=title.text if title else "", parties=parties, clauses=tuple(numbered),
                            pricing=pricing, notes=tuple(rest + notes))


PARTY = re.compile(r"^(?P<name>.+?)\s*\((?:the\s+)?[\"“]?(?P<role>[^()\"”]+?)[\"”]?\)\s*(?:,|;|and)?$", re.IGNORECASE)


def _parties(preamble: list[str]) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """"Name (Role)" lines after the title (the writer's "Between" list); other lines are notes."""
    parties, rest = [], []
    for line in preamble:
        found = PARTY.match(line)
        if found and len(line.split()) <= 15:
            parties.append((found["role"].strip(), found["name"].strip()))
        elif line.strip().lower().rstrip(":") not in ("between", "by and between"):
            rest.append(line)
    return tuple(parties), rest


# --------------------------------------------------------------------------------------------
# the pricing appendix

_COLUMNS = {"sku": "sku", "product": "product", "quantity": "quantity", "qty": "quantity", "unit price": "unit_price",
            "discount": "discount_percent", "net": "net_amount", "net amount": "net_amount", "amount": "net_amount"}
_CURRENCY_CODE = re.compile(r"\b([A-Z]{3})\b")


def _pricing(table: _Table, before: list[str]) -> PricingAppendix | None:
    if len(table.rows) < 2:
        return None
    columns = {}
    for i, title in enumerate(table.rows[0]):
        key = re.sub(r"[^a-z ]", "", title.lower()).strip()
        for name, column in _COLUMNS.items():
            if key.startswith(name) and column not in columns:
                columns[column] = i
                break
    if set(columns) != set(PricingRow.__dataclass_fields__):
        return None
    rows, total = [], None
    try:
        for cells in table.rows[1:]:
            if cells and cells[0].strip().lower().startswith("total"):
                total = _decimal(cells[-1])
                continue
            if not any(cells):
                continue
            value = {c: cells[i] for c, i in columns.items()}
            rows.append(PricingRow(sku=value["sku"], product=value["product"],
                                   **{c: _decimal(value[c]) for c in ("quantity", "unit_price", "discount_percent",
                                                                       "net_amount")}))
    except (IndexError, ValueError):
        return None
    context = " ".join(before[-2:] + table.rows[0])
    currency = next((c for c in _CURRENCY_CODE.findall(context) if c not in ("SKU", "VAT")), None)
    return PricingAppendix(currency=currency or "", rows=tuple(rows),
                           total=total if total is not None else sum((r.net_amount for r in rows), Decimal(0)))


def _decimal(cell: str) -> Decimal:
    money = parse_amount(cell.replace("%", ""))
    if money is None:
        raise ValueError(cell)
    return money.amount
