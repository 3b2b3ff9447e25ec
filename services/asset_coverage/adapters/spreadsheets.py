"""Reading an uploaded spreadsheet row by row, never whole: XLSX through openpyxl's read-only mode
(formulas kept as written, `data_only=False`, so a formula where a value is expected is seen), CSV
through the csv module over a text stream (UTF-8 with or without BOM; `,` `;` or tab, from the
header line). What is neither is refused as not a spreadsheet."""

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from openpyxl import load_workbook

from shared.backbone.errors import invalid
from services.asset_coverage.domain.import_columns import NOT_A_SPREADSHEET

FileFormat = Literal["xlsx", "csv"]
_SAMPLE_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def sniff(path: Path) -> FileFormat:
    """xlsx for a zip holding a workbook, csv for UTF-8 text; 422 import.not_a_spreadsheet otherwise."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as package:
                if "xl/workbook.xml" in package.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise invalid(NOT_A_SPREADSHEET, "the file is a zip archive but not an XLSX workbook", field="file")
    with path.open("rb") as file:
        sample = file.read(_SAMPLE_BYTES)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(sample, final=len(sample) < _SAMPLE_BYTES)
    except UnicodeDecodeError:
        raise invalid(NOT_A_SPREADSHEET, "the file is neither an XLSX workbook nor CSV text in UTF-8", field="file") from None
    if "\x00" in text:
        raise invalid(NOT_A_SPREADSHEET, "the file is neither an XLSX workbook nor CSV text (it holds binary data)",
                      field="file")
    return "csv"


@dataclass
class Sheet:
    """An opened spreadsheet: its rows from the header (row 1), and how many data rows it has."""

    format: FileFormat
    total_rows: int | None
    _rows: Iterator[tuple]
    _close: callable

    def rows(self) -> Iterator[tuple[int, tuple]]:
        """(row number as the spreadsheet shows it, cells), the header first."""
        return enumerate(self._rows, start=1)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> "Sheet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_sheet(path: Path, format: FileFormat | None = None) -> Sheet:
    format = format or sniff(path)
    return _open_xlsx(path) if format == "xlsx" else _open_csv(path)


def _open_xlsx(path: Path) -> Sheet:
    file = path.open("rb")  # a file object: openpyxl checks a path's extension, and uploads have none
    try:
        workbook = load_workbook(file, read_only=True, data_only=False)
    except Exception as exc:  # a damaged package: openpyxl raises what the part's parser raised
        file.close()
        raise invalid(NOT_A_SPREADSHEET, f"the XLSX workbook cannot be read: {type(exc).__name__}", field="file") from None
    sheet = workbook.worksheets[0]
    declared = _rows_in_part(path, sheet._worksheet_path)
    total = max(declared - 1, 0) if declared else None

    def close() -> None:
        workbook.close()
        file.close()

    return Sheet("xlsx", total, sheet.iter_rows(min_row=1, values_only=True), close)


def _open_csv(path: Path) -> Sheet:
    total = _line_count(path)
    file = path.open("r", encoding="utf-8-sig", errors="replace", newline="")
    try:
        first_line = file.readline()
        delimiter = max(_DELIMITERS, key=first_line.count)
        file.seek(0)
        rows = (tuple(row) for row in csv.reader(file, delimiter=delimiter))
    except BaseException:
        file.close()
        raise
    return Sheet("csv", max(total - 1, 0), rows, file.close)


def _rows_in_part(path: Path, part: str) -> int | None:
    """The last row of the worksheet's dimension (`<dimension ref="A1:K12"/>`, near its start), or
    for a worksheet without one (write-only writers leave it out; openpyxl would parse the whole
    sheet to look for it) its row elements, counted in the decompressed stream without parsing it."""
    try:
        with zipfile.ZipFile(path) as package, package.open(part.lstrip("/")) as xml:
            head = xml.read(16 * 1024)
            if found := _DIMENSION.search(head):
                return int(found.group(1) or 1)
            rows, tail = head.count(b"<row "), head[-8:]
            while chunk := xml.read(1024 * 1024):
                rows += (tail + chunk).count(b"<row ") - tail.count(b"<row ")
                tail = chunk[-8:]
            return rows
    except (KeyError, zipfile.BadZipFile):
        return None


def _line_count(path: Path) -> int:
    """Lines, counted in binary chunks (a quoted newline counts too: the percentage is an estimate)."""
    lines, last = 0, b""
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            lines += chunk.count(b"\n")
            last = chunk
    return lines + (1 if last and not last.endswith(b"\n") else 0)
