"""Conditions on deal fields, written in CEL (the Common Expression Language) and run by
`common-expression-language` (bindings to the Rust CEL interpreter): no Python is ever evaluated.

A condition is checked when a template is saved: it must parse, name only deal fields, and yield
true or false. The interpreter has no static type checker, so the check evaluates the condition on
typed probe values of the fields it names, built from the literals it compares them with (so
`region == "EU" && deal_size > "x"` reaches its type error); a branch no probe reaches can still
fail when a draft evaluates it, which refuses that draft (`ConditionFailed`).
"""

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Mapping

import cel

# The deal fields a condition may name, with their CEL types (docs/design/contracting.md).
DEAL_FIELDS: dict[str, type] = {
    "region": str, "industry": str, "risk_tier": str, "data_residency": str, "currency": str,
    "deal_size": float, "max_discount_percent": float, "term_months": int,
}
MAX_LENGTH = 1000
_MAX_PROBES = 512
_STRING_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')
_NUMBER_LITERAL = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])")


class ConditionInvalid(ValueError):
    """Why a condition cannot be saved, in a sentence."""


class ConditionFailed(ValueError):
    """A saved condition could not be evaluated on a deal's values."""


@dataclass(frozen=True)
class Condition:
    source: str
    fields: frozenset[str]
    program: object

    def holds(self, deal: Mapping[str, object]) -> bool:
        missing = sorted(self.fields - {k for k, v in deal.items() if v is not None})
        if missing:
            raise ConditionFailed(f"the condition {self.source!r} names {', '.join(missing)}, which the deal does not give")
        try:
            result = self.program.execute({name: _cel_value(deal[name]) for name in self.fields})
        except Exception as exc:  # the interpreter's own error types (RuntimeError, TypeError, ...)
            raise ConditionFailed(f"the condition {self.source!r} failed: {_first_line(exc)}") from None
        if not isinstance(result, bool):
            raise ConditionFailed(f"the condition {self.source!r} yields {result!r}, not true or false")
        return result


def compile_condition(source: str) -> Condition:
    """The checked, compiled condition (cached: a template's conditions are compiled once per process)."""
    return compile_condition_over(source, tuple(DEAL_FIELDS.items()))


@lru_cache(maxsize=2048)
def compile_condition_over(source: str, fields: tuple[tuple[str, type], ...]) -> Condition:
    """As compile_condition, over other named fields and their CEL types (the approval matrix's)."""
    known = dict(fields)
    if not source.strip():
        raise ConditionInvalid("the condition is empty")
    if len(source) > MAX_LENGTH:
        raise ConditionInvalid(f"the condition is longer than {MAX_LENGTH} characters")
    try:
        program = cel.compile(source)
    except Exception as exc:
        raise ConditionInvalid(f"it does not parse: {_first_line(exc)}") from None
    names = frozenset(program.variables())
    unknown = sorted(names - known.keys())
    if unknown:
        raise ConditionInvalid(f"it names {', '.join(unknown)}, which is not a deal field "
                               f"(the deal fields: {', '.join(sorted(known))})")
    condition = Condition(source, names, program)
    for probe in _probes(source, names, known):
        try:
            result = program.execute(probe)
        except Exception as exc:
            raise ConditionInvalid(f"it fails on {probe}: {_first_line(exc)}") from None
        if not isinstance(result, bool):
            raise ConditionInvalid(f"it yields {type(result).__name__} on {probe}, not true or false")
    return condition


def _probes(source: str, names: frozenset[str], known: dict[str, type]):
    strings = {"", *(a or b for a, b in _STRING_LITERAL.findall(source))}
    numbers = {Decimal(n) for n in _NUMBER_LITERAL.findall(_STRING_LITERAL.sub('""', source))}
    candidates = {str: sorted(strings), float: sorted({0.0, 1e12, *(float(n) for n in numbers)}),
                  int: sorted({0, 10**6, *(int(n) for n in numbers if n == n.to_integral_value())})}
    ordered = sorted(names)
    values = [candidates[known[name]] for name in ordered]
    for combination in itertools.islice(itertools.product(*values), _MAX_PROBES):
        yield dict(zip(ordered, combination))


def _cel_value(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
