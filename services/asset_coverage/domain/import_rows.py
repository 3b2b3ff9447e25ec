"""One spreadsheet row into the models the API takes (`AssetDetails`; `VendorContractTerms` and
`OperationalTerms`; a link), or the problems that refuse it: each with the row number as the
spreadsheet shows it (header = 1), the column, the reason and the offending value."""

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Union
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, model_validator

from shared.events.assets import ASSET_ID_PATTERN, AssetDetails
from shared.events.coverage import OperationalTerms, VendorContractTerms
from services.asset_coverage.domain.import_columns import COLUMNS, FORMULA, CellRefused, Column, ImportKind
from services.asset_coverage.domain.operational_contract.terms import vendor_contract_id

_ASSET_ID = re.compile(ASSET_ID_PATTERN)
ASSET_ID_REASON = "not an asset id: letters, digits and . _ : / # - (no spaces), at most 128"


@dataclass(frozen=True)
class Problem:
    row: int
    column: str | None
    reason: str
    value: str | None = None


@dataclass
class BatchProgress:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: "BatchProgress") -> None:
        for name in ("rows_read", "created", "updated", "unchanged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class AssetRow:
    asset_id: str
    details: AssetDetails

    @property
    def key(self) -> str:
        return self.asset_id


@dataclass(frozen=True)
class ContractRow:
    terms: VendorContractTerms
    operational: OperationalTerms

    @cached_property
    def key(self) -> str:
        return str(vendor_contract_id(self.terms.vendor, self.terms.vendor_contract_number))


class LinkRow(BaseModel):
    contract_id: UUID | None = None
    vendor: str | None = Field(default=None, max_length=200)
    vendor_contract_number: str | None = Field(default=None, max_length=100)
    asset_id: str = Field(pattern=ASSET_ID_PATTERN)
    asset_name: str | None = Field(default=None, max_length=300)
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    @model_validator(mode="after")
    def _one_contract_and_ordered_dates(self) -> "LinkRow":
        if self.contract_id is None and not (self.vendor and self.vendor_contract_number):
            raise ValueError("name the contract: contract_id, or vendor and vendor_contract_number")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to must not be before effective_from")
        return self

    @property
    def contract(self) -> UUID:
        return self.contract_id or vendor_contract_id(self.vendor, self.vendor_contract_number)

    @property
    def key(self) -> str:
        return f"{self.contract}/{self.asset_id}"


ValidRow = Union[AssetRow, ContractRow, LinkRow]


def _shown(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)[:500]


def _put(data: dict, path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


class RowReader:
    """Reads the rows of one file of one kind, its header already mapped to columns."""

    def __init__(self, kind: ImportKind, columns: list[Column | None]):
        self.kind = kind
        self.columns = columns
        self._by_path = {c.path: c.name for c in COLUMNS[kind]}

    def read(self, number: int, cells: tuple | list) -> tuple[ValidRow | None, list[Problem]]:
        data: dict = {}
        raw: dict[str, object] = {}
        problems: list[Problem] = []
        for column, value in zip(self.columns, cells):
            if column is None or value is None or (isinstance(value, str) and not value.strip()):
                continue
            raw[column.name] = value
            if isinstance(value, str) and value.lstrip().startswith("="):
                problems.append(Problem(number, column.name, FORMULA, _shown(value)))
                continue
            if isinstance(value, str) and "\x00" in value:
                problems.append(Problem(number, column.name, "text cannot hold the NUL character", _shown(value)))
                continue
            try:
                _put(data, column.path, column.read(value))
            except CellRefused as refused:
                problems.append(Problem(number, column.name, str(refused), _shown(value)))
        for column in COLUMNS[self.kind]:
            if column.required and column.name not in raw:
                problems.append(Problem(number, column.name, "required", None))
        if problems:
            return None, problems
        row, errors = self._validated(data)
        problems = [self._problem(number, loc, message, raw) for loc, message in errors]
        return (None, problems) if problems else (row, [])

    def _validated(self, data: dict) -> tuple[ValidRow | None, list[tuple[tuple, str]]]:
        errors: list[tuple[tuple, str]] = []

        def model(cls: type[BaseModel], prefix: tuple[str, ...], values: dict):
            try:
                return cls.model_validate(values)
            except ValidationError as error:
                errors.extend(((*prefix, *e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors())
                return None

        if self.kind == "assets":
            asset_id = data.get("asset_id", "")
            if not _ASSET_ID.match(asset_id):
                errors.append((("asset_id",), ASSET_ID_REASON))
            details = model(AssetDetails, ("details",), data.get("details", {}))
            return (AssetRow(asset_id, details) if details and not errors else None), errors
        if self.kind == "contracts":
            terms = model(VendorContractTerms, ("terms",), data.get("terms", {}))
            operational = model(OperationalTerms, ("operational",), data.get("operational", {}))
            return (ContractRow(terms, operational) if terms and operational else None), errors
        link = model(LinkRow, (), data)
        if link is None:
            errors[:] = [(loc, ASSET_ID_REASON if loc == ("asset_id",) and "pattern" in m else m) for loc, m in errors]
        return link, errors

    def _problem(self, number: int, loc: tuple, message: str, raw: dict) -> Problem:
        path = tuple(str(p) for p in loc)
        while path and path not in self._by_path:
            path = path[:-1]  # a list item (owners.3) or a whole model's rule (its prefix)
        name = self._by_path.get(path) or _column_of_rule(message)
        return Problem(number, name, message, _shown(raw.get(name)) if name else None)


def _column_of_rule(message: str) -> str | None:
    """A model's own rule names the column it is about first (end_date must not be before ...)."""
    first = message.split(" ", 1)[0]
    return first if any(first == c.name for columns in COLUMNS.values() for c in columns) else None


class Duplicates:
    """Keys seen in this file: a key repeated on a later row is that row's problem (the first wins)."""

    def __init__(self):
        self._first: dict[str, int] = {}

    def problem(self, number: int, row: ValidRow) -> Problem | None:
        first = self._first.setdefault(row.key, number)
        if first == number:
            return None
        if isinstance(row, ContractRow):
            column, value = "vendor_contract_number", row.terms.vendor_contract_number
        else:
            column, value = "asset_id", row.asset_id
        return Problem(number, column, f"duplicate of row {first}", value)
