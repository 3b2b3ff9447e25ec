"""Currencies and amounts as the events carry them: ISO 4217 codes (the table pycountry keeps)
and Decimal amounts, which JSON carries as strings so no float ever rounds a price."""

from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field


def is_currency(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency code, as written there (three capital letters)."""
    return len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def _iso_4217(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[str, AfterValidator(_iso_4217), Field(description="ISO 4217 code", examples=["EUR"])]
