"""The columns of each kind of import (docs/operations/imports.md), how a header row maps to them
(case-, space- and underscore-insensitive, with aliases), and how a cell's value is read: text,
ISO dates (or real date cells), decimals with `.`, whole numbers, yes/no, lists. A formula where a
value is expected, or a date that could be read two ways, refuses the cell with a reason."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Literal

from shared.backbone.errors import invalid

ImportKind = Literal["assets", "contracts", "links"]

NOT_A_SPREADSHEET = "import.not_a_spreadsheet"
NO_HEADER = "import.no_header"
UNKNOWN_COLUMNS = "import.unknown_columns"
MISSING_COLUMNS = "import.missing_columns"
TOO_LARGE = "import.too_large"

FORMULA = "formula where a value is expected"
AMBIGUOUS_DATE = "ambiguous date"


class CellRefused(ValueError):
    """A cell's value cannot be read as its column's type; the message is the report's reason."""


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a text column (a contract number 12345)
    if isinstance(value, (dt.datetime, dt.date)):
        raise CellRefused("a date where text is expected")
    return str(value).strip()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if _ISO_DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise CellRefused(f"no such date: {text}") from None
    if _DATE_LIKE.match(text):
        raise CellRefused(AMBIGUOUS_DATE)
    raise CellRefused("not a date: write YYYY-MM-DD")


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise CellRefused("not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip()
    if "," in text:
        raise CellRefused("a decimal is written with '.', not ','")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellRefused("not a number") from None
    if not number.is_finite():
        raise CellRefused("not a number")
    return number


def _whole(value: object) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise CellRefused("not a whole number")
    return int(number)


_YES, _NO = {"yes", "y", "true", "1", "x"}, {"no", "n", "false", "0", ""}


def _yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellRefused("not yes or no")


def _list(value: object) -> list[str]:
    return [part.strip() for part in re.split(r"[;,\n]", _text(value)) if part.strip()]


def _choice(value: object) -> str:
    """An enumerated value: `CNC machine` and `cnc_machine` alike."""
    return "_".join(_text(value).casefold().replace("-", " ").split())


Read = Callable[[object], object]


@dataclass(frozen=True)
class Column:
    name: str  # as documented and as the report names it
    path: tuple[str, ...]  # where the value goes in the row's data
    read: Read = _text
    required: bool = False
    aliases: tuple[str, ...] = ()


def _c(name: str, path: str, read: Read = _text, required: bool = False, aliases: tuple[str, ...] = ()) -> Column:
    return Column(name, tuple(path.split(".")), read, required, aliases)


ASSET_COLUMNS = (
    _c("asset_id", "asset_id", required=True, aliases=("asset", "asset tag", "ci id", "serial", "serial number")),
    _c("kind", "details.kind", _choice, required=True, aliases=("type", "asset kind")),
    _c("name", "details.name", required=True, aliases=("asset name", "description")),
    _c("model", "details.model"),
    _c("site", "details.site", aliases=("location", "plant")),
    _c("criticality", "details.criticality", _choice),
    _c("owner", "details.owner"),
    _c("licence_metric", "details.licence_metric", _choice, aliases=("license metric",)),
    _c("licence_quantity", "details.licence_quantity", _whole, aliases=("license quantity", "quantity")),
)

CONTRACT_COLUMNS = (
    _c("number", "terms.number", required=True, aliases=("contract number", "our number")),
    _c("vendor", "terms.vendor", required=True, aliases=("supplier",)),
    _c("vendor_contract_number", "terms.vendor_contract_number", required=True,
       aliases=("vendor contract no", "vendor contract", "supplier contract number")),
    _c("name", "terms.name", required=True, aliases=("contract name", "title")),
    _c("customer", "terms.customer"),
    _c("contract_model", "terms.contract_model", _choice, required=True, aliases=("model", "contract type", "type")),
    _c("start_date", "terms.start_date", _date, required=True, aliases=("start",)),
    _c("end_date", "terms.end_date", _date, required=True, aliases=("end",)),
    _c("time_zone", "terms.time_zone", aliases=("timezone",)),
    _c("response_hours", "operational.sla.response_hours", _decimal, aliases=("sla response hours",)),
    _c("resolution_hours", "operational.sla.resolution_hours", _decimal, aliases=("sla resolution hours",)),
    _c("service_hours", "operational.sla.service_hours", aliases=("sla service hours",)),
    _c("warranty_terms", "operational.warranty.terms", aliases=("warranty",)),
    _c("warranty_until", "operational.warranty.until", _date),
    _c("currency", "operational.costs.currency", lambda v: _text(v).upper()),
    _c("payment_amount", "operational.costs.payment_amount", _decimal, aliases=("amount",)),
    _c("payment_schedule", "operational.costs.payment_schedule", _choice),
    _c("cost_per_unit", "operational.costs.cost_per_unit", _decimal),
    _c("cost_center", "operational.costs.cost_center"),
    _c("po_number", "operational.costs.po_number", aliases=("po", "purchase order")),
    _c("tax", "operational.costs.tax", _decimal),
    _c("renewable", "operational.renewal.renewable", _yes_no),
    _c("renewal_options", "operational.renewal.options"),
    _c("notice_days", "operational.renewal.notice_days", _whole, aliases=("notice period days",)),
    _c("owners", "operational.owners", _list, aliases=("owner",)),
)

LINK_COLUMNS = (
    _c("contract_id", "contract_id"),
    _c("vendor", "vendor", aliases=("supplier",)),
    _c("vendor_contract_number", "vendor_contract_number",
       aliases=("vendor contract no", "vendor contract", "supplier contract number")),
    _c("asset_id", "asset_id", required=True, aliases=("asset", "asset tag", "ci id", "serial", "serial number")),
    _c("asset_name", "asset_name"),
    _c("effective_from", "effective_from", _date, aliases=("from", "link from")),
    _c("effective_to", "effective_to", _date, aliases=("to", "until", "link to")),
)

COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    "assets": ASSET_COLUMNS, "contracts": CONTRACT_COLUMNS, "links": LINK_COLUMNS,
}


def normalized(header: str) -> str:
    return " ".join(header.replace("_", " ").replace("-", " ").casefold().split())


def _lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {normalized(n): c for c in columns for n in (c.name, *c.aliases)}


_LOOKUPS = {kind: _lookup(columns) for kind, columns in COLUMNS.items()}


def map_header(kind: ImportKind, header: list[object]) -> list[Column | None]:
    """The column of each header cell (None for a blank one), or 422: no header (the first row names
    no known column), unknown columns (listing them, and any required ones missing), missing columns."""
    lookup = _LOOKUPS[kind]
    names = ["" if cell is None else str(cell).strip() for cell in header]
    mapped = [lookup.get(normalized(n)) if n else None for n in names]
    if not any(mapped):
        raise invalid(NO_HEADER, f"the first row must name the columns ({', '.join(c.name for c in COLUMNS[kind])}); "
                      "it names none of them", field="file")
    unknown = [n for n, c in zip(names, mapped) if n and c is None]
    present = {c.name for c in mapped if c}
    missing = [c.name for c in COLUMNS[kind] if c.required and c.name not in present]
    if kind == "links" and "contract_id" not in present and not {"vendor", "vendor_contract_number"} <= present:
        missing.append("contract_id (or vendor and vendor_contract_number)")
    repeated = sorted({c.name for c in mapped if c and sum(1 for m in mapped if m is c) > 1})
    if unknown or repeated:
        what = f"unknown columns: {', '.join(unknown)}" if unknown else f"repeated columns: {', '.join(repeated)}"
        raise invalid(UNKNOWN_COLUMNS, what + (f"; missing required columns: {', '.join(missing)}" if missing else ""),
                      field="file", unknown_columns=unknown + repeated, missing_columns=missing)
    if missing:
        raise invalid(MISSING_COLUMNS, f"missing required columns: {', '.join(missing)}", field="file",
                      unknown_columns=[], missing_columns=missing)
    return mapped
