"""A quote's prices: each line's net amount and the deal's size, in the quote's currency.

Net amount = quantity x unit price x (1 - discount / 100), rounded half up to the currency's minor
unit; the deal size is the sum of the rounded net amounts (what the customer is invoiced, line by
line), and the largest line discount is the deal's. Neither is ever entered by a client.
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext

from shared.events.money import is_currency

# ISO 4217's minor units where they are not 2 (the standard's list one, 2024). Codes with no minor
# unit (precious metals, SDR and other units of account, the test and "no currency" codes) price
# nothing, so a quote in them is refused. pycountry, which validates the codes, does not carry
# minor units; babel does, but is not a dependency for one table.
_MINOR_UNITS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
    **dict.fromkeys(["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"], None),
}
HUNDRED = Decimal(100)
LARGEST = Decimal(10) ** 12  # quantities and unit prices stay below it (rules.QUOTE_AMOUNT_TOO_LARGE)
# Enough digits that no product or sum of bounded amounts (500 lines) rounds before `rounded` does.
_PRECISION = 50


def minor_unit(currency: str) -> int | None:
    """Digits after the decimal point in `currency`'s amounts; None for an unknown code or one without a minor unit."""
    if not is_currency(currency):
        return None
    return _MINOR_UNITS.get(currency, 2)


def rounded(amount: Decimal, currency: str) -> Decimal:
    with localcontext(prec=_PRECISION):
        return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def net_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: str) -> Decimal:
    with localcontext(prec=_PRECISION):
        return rounded(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED, currency)


def total(amounts: list[Decimal], currency: str) -> Decimal:
    with localcontext(prec=_PRECISION):
        return rounded(sum(amounts, Decimal(0)), currency)
