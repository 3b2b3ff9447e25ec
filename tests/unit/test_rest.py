"""The REST idioms of shared/backbone/rest.py that need no app."""

import re

import pytest

from shared.backbone.errors import DomainError
from shared.backbone.rest import IF_MATCH_PATTERN, expected_version


@pytest.mark.parametrize("if_match, version", [('"3"', 3), ("3", 3), ('W/"3"', 3), (" 3 ", 3), ("*", None), (None, None)])
def test_if_match_names_a_version_or_any(if_match, version):
    assert expected_version(if_match) == version


@pytest.mark.parametrize("if_match", ["null", "", "three", "²", "٣", "3\n", 'W/ "3"', '"3"x', "-1"])
def test_any_other_if_match_is_refused_by_its_rule_and_is_outside_the_documented_pattern(if_match):
    """The pattern in the OpenAPI document is what is accepted ("²" is a digit to str.isdigit, not to int)."""
    with pytest.raises(DomainError) as refused:
        expected_version(if_match)
    assert refused.value.rule == "request.if_match_invalid" and refused.value.field == "If-Match"
    assert re.fullmatch(IF_MATCH_PATTERN, if_match) is None


def test_a_version_in_the_body_wins():
    assert expected_version('"3"', 4) == 4


def test_dates_and_amounts_are_read_as_documented():
    """What pydantic would coerce besides (0 as 1970-01-01, a datetime, "1e3", "", " 1") is refused:
    the OpenAPI document promises YYYY-MM-DD and digits, and schemathesis holds the API to it."""
    import datetime as dt
    from decimal import Decimal

    from pydantic import TypeAdapter, ValidationError

    from shared.backbone.rest import Amount, Date

    dates, amounts = TypeAdapter(Date), TypeAdapter(Amount)
    assert dates.validate_python("2027-01-31") == dt.date(2027, 1, 31)
    assert amounts.validate_python("9600.00") == Decimal("9600.00") and amounts.validate_python(12.5) == Decimal("12.5")
    for value in [0, "0", "2027-01-31T00:00:00", "20270131", True]:
        with pytest.raises(ValidationError):
            dates.validate_python(value)
    for value in ["", "1e3", "-1", " 1", "+1", -1, True, "NaN"]:
        with pytest.raises(ValidationError):
            amounts.validate_python(value)
    assert amounts.json_schema() == {"anyOf": [{"type": "number", "minimum": 0},
                                               {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}]}
