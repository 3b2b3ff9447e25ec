"""Negotiated terms: the values a contract's clauses carry (liability cap, auto-renewal, payment
days, governing law), read from clause text, and what changed between two readings.

Values are found two ways: against a library text, whose `{{ name }}` placeholders become named
groups of a pattern (`extract_values`), and by the four parsers, which read a term from free text
wherever the counterparty put it."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                         "\u00a0": " ", "\u202f": " "})


def plain(text: str) -> str:
    """Typographic quotes and dashes as ASCII, whitespace collapsed: what both sides of a match are
    read as before any value is taken out of them."""
    return " ".join(text.translate(_QUOTES).split())


# --------------------------------------------------------------------------------------------
# values against a library text

LEADING_NUMBER = re.compile(
    r"^\s*(?:(?:clause|article|section|§)\s*)?(?:\d+(?:\.\d+)*[.)]?|\(?(?:[a-z]|[ivxlc]+)[.)])\s+", re.IGNORECASE)


def _bare(text: str) -> str:
    """Plain, without a leading clause number or closing punctuation."""
    return LEADING_NUMBER.sub("", plain(text)).rstrip(" .;:,")


@lru_cache(maxsize=4096)
def template_pattern(template_text: str) -> re.Pattern:
    """The library text as a pattern: literal words escaped and joined by any whitespace, each
    `{{ name }}` a lazy named group (a name used twice must hold the same value both times)."""
    parts, seen, at = [], set(), 0
    template_text = _bare(template_text)
    for found in PLACEHOLDER.finditer(template_text):
        parts.append(_literal(template_text[at:found.start()]))
        name = found.group(1)
        group = re.sub(r"\W", "_", name)
        parts.append(f"(?P={group})" if group in seen else f"(?P<{group}>.+?)")
        seen.add(group)
        at = found.end()
    parts.append(_literal(template_text[at:]))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _literal(text: str) -> str:
    """Words joined by any whitespace; a comma, full stop, colon or semicolon after a word optional."""
    words = text.split()
    if not words:
        return r"\s*" if text else ""
    lead = r"\s*" if text[:1].isspace() else ""
    trail = r"\s*" if text[-1:].isspace() else ""
    tokens = [re.escape(w.rstrip(".,;:")) + "[.,;:]?" if w.rstrip(".,;:") else "[.,;:]?" for w in words]
    return lead + r"\s+".join(tokens) + trail


def extract_values(template_text: str, document_text: str) -> dict[str, str]:
    """The placeholder values of `document_text` read as `template_text` filled in; {} when the
    document's wording is not the template's (or the template has no placeholders)."""
    if not PLACEHOLDER.search(template_text):
        return {}
    found = template_pattern(template_text).fullmatch(_bare(document_text))
    if found is None:
        return {}
    names = {re.sub(r"\W", "_", n): n for n in PLACEHOLDER.findall(template_text)}
    return {names[g]: v.strip() for g, v in found.groupdict().items()}


# --------------------------------------------------------------------------------------------
# the four terms, from free text


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None


_CURRENCY_OF = {"€": "EUR", "$": "USD", "£": "GBP", "eur": "EUR", "euro": "EUR", "euros": "EUR", "usd": "USD",
                "dollars": "USD", "gbp": "GBP", "chf": "CHF", "jpy": "JPY", "sek": "SEK", "dkk": "DKK", "nok": "NOK",
                "pln": "PLN", "cad": "CAD", "aud": "AUD"}
_SCALE = {"thousand": 10**3, "k": 10**3, "million": 10**6, "mio": 10**6, "mn": 10**6, "m": 10**6,
          "billion": 10**9, "bn": 10**9}
_CUR = r"(?:[€$£]|\b(?:EUR|USD|GBP|CHF|JPY|SEK|DKK|NOK|PLN|CAD|AUD|euros?|dollars)\b)"
_NUM = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_SCALES = r"(?:thousand|million|billion|mio|mn|bn|k|m)\b\.?"
AMOUNT = re.compile(
    rf"(?P<cur1>{_CUR})?\s*(?P<num>{_NUM})\s*(?P<scale>{_SCALES})?\s*(?P<cur2>{_CUR})?", re.IGNORECASE)


def parse_amount(text: str) -> Money | None:
    """The first amount with a currency or a scale ("EUR 1,000,000", "1.000.000 €", "1 million"),
    else the first bare number; None when there is none."""
    bare = None
    for found in AMOUNT.finditer(plain(text)):
        amount = _number(found["num"])
        if amount is None:
            continue
        if found["scale"]:
            amount *= _SCALE[found["scale"].rstrip(".").lower()]
        currency = found["cur1"] or found["cur2"]
        money = Money(amount, _CURRENCY_OF.get(currency.lower()) if currency else None)
        if currency or found["scale"]:
            return money
        bare = bare or money
    return bare


def _number(digits: str) -> Decimal | None:
    """"1,000,000.50", "1.000.000,50", "1 000 000", "2.5", "1,5": with both separators the last is
    the decimal one; a separator used once and followed by other than three digits is decimal;
    every other separator groups thousands."""
    digits = digits.replace(" ", "")
    seps = [s for s in ".," if s in digits]
    if len(seps) == 2:
        decimal_sep = max(seps, key=digits.rindex)
    elif seps and digits.count(seps[0]) == 1 and len(digits.rpartition(seps[0])[2]) != 3:
        decimal_sep = seps[0]
    else:
        decimal_sep = None
    whole, _, fraction = digits.rpartition(decimal_sep) if decimal_sep else (digits, "", "")
    whole = whole.replace(",", "").replace(".", "")
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:
        return None


DAYS = re.compile(r"(?:\((\d+)\)|(\d+))\s*(?:calendar\s+|business\s+|working\s+)?days?\b", re.IGNORECASE)


def parse_days(text: str) -> int | None:
    """"30 days", "thirty (30) days", "45 calendar days"."""
    found = DAYS.search(plain(text))
    return int(found[1] or found[2]) if found else None


NO_RENEWAL = re.compile(
    r"\b(?:shall|will|does|do|is|are)\s+not\s+(?:be\s+)?(?:automatically\s+)?renew|"
    r"\bnot\s+(?:be\s+)?(?:automatically|tacitly)\s+renew|\bno\s+(?:automatic|tacit)\s+renewal|"
    r"\bwithout\s+(?:automatic|tacit)\s+renewal|\bnot\s+renew", re.IGNORECASE)
RENEWAL = re.compile(
    r"\brenew(?:s|ed)?\s+(?:itself\s+)?(?:automatically|tacitly)|\b(?:automatically|tacitly)\s+(?:be\s+)?renew|"
    r"\bauto-?renew|\bautomatic\s+renewal", re.IGNORECASE)


def parse_auto_renewal(text: str) -> bool | None:
    """"shall renew automatically" → True, "shall not renew" → False, no word of renewal → None."""
    text = plain(text)
    if NO_RENEWAL.search(text):
        return False
    if RENEWAL.search(text):
        return True
    return None


GOVERNING_LAW = re.compile(
    r"\blaws?\s+of\s+(?:the\s+)?((?:(?:State|Commonwealth|Republic|Federal Republic|Kingdom|Province)\s+of\s+(?:the\s+)?)?"
    r"[A-Z][\w'-]*(?:\s+(?:and\s+)?[A-Z][\w'-]*)*)")


def parse_governing_law(text: str) -> str | None:
    """"the laws of Germany" → "Germany", "the laws of England and Wales" → "England and Wales"."""
    found = GOVERNING_LAW.search(plain(text))
    return found[1] if found else None


# --------------------------------------------------------------------------------------------
# terms and their changes


@dataclass(frozen=True)
class NegotiatedTerms:
    liability_cap: Decimal | None = None
    liability_cap_currency: str | None = None
    auto_renewal: bool | None = None
    payment_days: int | None = None
    governing_law: str | None = None


def read_terms(clause_texts: list[str] | tuple[str, ...]) -> NegotiatedTerms:
    """The terms as the clauses state them: each from the first sentence that talks about it."""
    cap = renewal = days = law = None
    for text in clause_texts:
        for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z(])", plain(text)):
            lowered = sentence.lower()
            if cap is None and "liab" in lowered:
                cap = parse_amount(sentence) if AMOUNT.search(sentence) and _has_money(sentence) else None
            if renewal is None and "renew" in lowered:
                renewal = parse_auto_renewal(sentence)
            if days is None and ("pay" in lowered or "invoice" in lowered):
                days = parse_days(sentence)
            if law is None and "law" in lowered:
                law = parse_governing_law(sentence)
    return NegotiatedTerms(
        liability_cap=cap.amount if cap else None, liability_cap_currency=cap.currency if cap else None,
        auto_renewal=renewal, payment_days=days, governing_law=law)


def _has_money(sentence: str) -> bool:
    money = parse_amount(sentence)
    return money is not None and (money.currency is not None or money.amount >= 1000)


@dataclass(frozen=True)
class TermChange:
    field: str
    before: object
    after: object
    direction: str  # lower | higher | longer | shorter | switched_on | switched_off | other | added | removed
    deviation: bool  # the change moves the term away from what the standard protects (see DEVIATING)


# Which directions are deviations: less liability cover, paying later, renewal switched either
# way, another law or currency, a term struck out. A higher cap or earlier payment is recorded
# as a change but not flagged.
DEVIATING = {
    "liability_cap": {"lower", "removed", "other"},
    "liability_cap_currency": {"other", "removed"},
    "payment_days": {"longer", "removed"},
    "auto_renewal": {"switched_on", "switched_off", "removed"},
    "governing_law": {"other", "removed"},
}


def changed_terms(before: NegotiatedTerms, after: NegotiatedTerms) -> list[TermChange]:
    changes = []
    for name in DEVIATING:
        old, new = getattr(before, name), getattr(after, name)
        if old == new or (isinstance(old, str) and isinstance(new, str) and old.casefold() == new.casefold()):
            continue
        direction = _direction(name, old, new)
        changes.append(TermChange(name, old, new, direction, direction in DEVIATING[name]))
    return changes


def _direction(name: str, old, new) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if name == "liability_cap":
        return "lower" if new < old else "higher"
    if name == "payment_days":
        return "longer" if new > old else "shorter"
    if name == "auto_renewal":
        return "switched_on" if new else "switched_off"
    return "other"
