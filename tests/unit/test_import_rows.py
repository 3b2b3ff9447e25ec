"""Spreadsheet rows into the API's models (services/asset_coverage/domain/import_*.py): the header's
columns and aliases, dates (ISO or real date cells; ambiguous ones refused), decimals, formulas
refused, pydantic's refusals as report rows (row, column, reason, value), duplicate keys."""

import datetime as dt
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError
from services.asset_coverage.domain.import_columns import map_header
from services.asset_coverage.domain.import_rows import ContractRow, Duplicates, Problem, RowReader

CONTRACT_HEADER = ["Number", "Vendor", "Vendor contract number", "Name", "Contract model", "Start date", "End date",
                   "Response hours", "Payment amount", "Owners", "Renewable"]


def contract_cells(**overrides):
    cells = {"number": "OPS-1", "vendor": "KUKA", "vcn": "K-100", "name": "Robot maintenance",
             "model": "Maintenance", "start": "2026-01-01", "end": "2026-12-31", "response": "4",
             "amount": "1200.50", "owners": "ops@example.com; role:asset_manager", "renewable": "yes"}
    cells.update(overrides)
    return tuple(cells.values())


def reader(kind="contracts", header=CONTRACT_HEADER):
    return RowReader(kind, map_header(kind, header))


def test_headers_match_whatever_their_case_spaces_and_underscores_and_by_alias():
    columns = map_header("contracts", ["NUMBER", " vendor_contract_number ", "supplier", "title", "contract-model",
                                       "start", "End Date", None])
    assert [c.name if c else None for c in columns] == ["number", "vendor_contract_number", "vendor", "name",
                                                        "contract_model", "start_date", "end_date", None]


def test_a_column_named_twice_is_refused_as_repeated():
    with pytest.raises(DomainError) as refused:
        map_header("assets", ["asset id", "asset_id", "kind", "name"])
    assert refused.value.rule == "import.unknown_columns" and refused.value.extra["unknown_columns"] == ["asset_id"]


def test_unknown_columns_are_listed_with_the_required_ones_missing():
    with pytest.raises(DomainError) as refused:
        map_header("assets", ["asset_id", "name", "colour", "weight"])
    assert refused.value.rule == "import.unknown_columns"
    assert refused.value.extra == {"unknown_columns": ["colour", "weight"], "missing_columns": ["kind"]}


def test_a_first_row_naming_no_column_is_no_header():
    with pytest.raises(DomainError) as refused:
        map_header("assets", ["R-1", "robot", "Welding robot"])
    assert refused.value.rule == "import.no_header"


def test_missing_required_columns_alone():
    with pytest.raises(DomainError) as refused:
        map_header("links", ["asset_id"])
    assert refused.value.rule == "import.missing_columns"
    assert refused.value.extra["missing_columns"] == ["contract_id (or vendor and vendor_contract_number)"]


def test_a_good_row_becomes_the_models_the_api_takes():
    row, problems = reader().read(2, contract_cells())
    assert problems == [] and isinstance(row, ContractRow)
    assert row.terms.contract_model == "maintenance" and row.terms.start_date == dt.date(2026, 1, 1)
    assert row.operational.sla.response_hours == Decimal("4")
    assert row.operational.costs.payment_amount == Decimal("1200.50")
    assert row.operational.owners == ["ops@example.com", "role:asset_manager"]
    assert row.operational.renewal.renewable is True


def test_real_date_cells_of_an_xlsx_are_dates():
    row, problems = reader().read(2, contract_cells(start=dt.datetime(2026, 2, 1), end=dt.date(2027, 1, 31)))
    assert problems == [] and (row.terms.start_date, row.terms.end_date) == (dt.date(2026, 2, 1), dt.date(2027, 1, 31))


@pytest.mark.parametrize("written", ["03/04/2026", "3.4.26", "2026/04/03", "04-03-2026"])
def test_dates_that_could_be_read_two_ways_are_refused_naming_the_column(written):
    _, problems = reader().read(7, contract_cells(start=written))
    assert problems == [Problem(7, "start_date", "ambiguous date", written)]


def test_a_formula_where_a_value_is_expected_is_refused():
    _, problems = reader().read(3, contract_cells(amount="=B2*12"))
    assert problems == [Problem(3, "payment_amount", "formula where a value is expected", "=B2*12")]


def test_a_decimal_comma_is_refused_and_every_problem_of_a_row_is_reported():
    _, problems = reader().read(4, contract_cells(amount="1200,50", vendor="", end="tomorrow"))
    assert {(p.column, p.reason) for p in problems} == {
        ("payment_amount", "a decimal is written with '.', not ','"),
        ("end_date", "not a date: write YYYY-MM-DD"), ("vendor", "required")}


def test_pydantics_refusals_name_the_column_and_the_value():
    _, problems = reader().read(5, contract_cells(model="barter", response="-1"))
    by_column = {p.column: p for p in problems}
    assert by_column["contract_model"].value == "barter" and "maintenance" in by_column["contract_model"].reason
    assert by_column["response_hours"].value == "-1" and "greater than 0" in by_column["response_hours"].reason


def test_a_models_own_rule_names_its_column():
    _, problems = reader().read(6, contract_cells(start="2026-12-31", end="2026-01-01"))
    assert problems == [Problem(6, "end_date", "end_date must not be before start_date", "2026-01-01")]


def test_asset_rows_check_the_asset_id_and_the_software_only_fields():
    assets = reader("assets", ["asset_id", "kind", "name", "licence quantity"])
    row, problems = assets.read(2, ("R-4711", "CNC machine", "Mill 3", None))
    assert problems == [] and row.details.kind == "cnc_machine"
    _, problems = assets.read(3, ("R 4711", "robot", "Welder", 5))
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "asset_id", "R 4711"), (3, "licence_metric", None)]
    assert problems[0].reason.startswith("not an asset id")
    assert problems[1].reason == "licence_metric and licence_quantity are for software only"


def test_numbers_typed_into_text_columns_read_as_their_digits():
    row, problems = reader().read(2, contract_cells(vcn=12345.0, number=77))
    assert problems == [] and (row.terms.vendor_contract_number, row.terms.number) == ("12345", "77")


def test_link_rows_name_a_contract_by_id_or_by_its_vendor_key():
    links = reader("links", ["vendor", "vendor contract number", "asset", "from", "to"])
    row, problems = links.read(2, ("KUKA", "K-100", "R-1", "2026-02-01", "2026-06-30"))
    assert problems == [] and row.key.endswith("/R-1")
    _, problems = links.read(3, ("KUKA", "K-100", "R-1", "2026-06-30", "2026-02-01"))
    assert problems == [Problem(3, "effective_to", "effective_to must not be before effective_from", "2026-02-01")]


def test_a_key_repeated_on_a_later_row_is_that_rows_duplicate():
    contracts, duplicates = reader(), Duplicates()
    first, _ = contracts.read(2, contract_cells())
    again, _ = contracts.read(9, contract_cells(vendor="  kuka ", name="other name"))
    assert duplicates.problem(2, first) is None
    assert duplicates.problem(9, again) == Problem(9, "vendor_contract_number", "duplicate of row 2", "K-100")
    assert duplicates.problem(2, first) is None  # the same row seen again (a batch retried) is no duplicate
