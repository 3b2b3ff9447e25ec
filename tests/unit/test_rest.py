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
