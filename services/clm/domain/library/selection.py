"""Drafting from a template version, as pure functions: the deal fields choose the clauses and
their variants, the variables fill their placeholders, and the result is a ContractDocument the
Word writer renders."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Mapping
from uuid import UUID

from shared.backbone.errors import invalid
from shared.events.library import ClauseVersionPublished, TemplateVariable, TemplateVersionPublished
from services.clm.domain.documents.model import ContractDocument, DocumentClause, PricingAppendix
from services.clm.domain.library import rules
from services.clm.domain.library.clause import STANDARD
from services.clm.domain.library.conditions import ConditionFailed, compile_condition
from services.clm.domain.library.placeholders import TextInvalid, names_in, render

PinnedClauses = Mapping[tuple[UUID, int], ClauseVersionPublished]  # (clause_id, version) -> that version


def select_clauses(template: TemplateVersionPublished, clauses: PinnedClauses, deal: Mapping[str, object],
                   variables: Mapping[str, object]) -> tuple[DocumentClause, ...]:
    """The clauses the deal selects, in the template's order, numbered 1, 2, ... and rendered."""
    values = _values(template.variables, variables)
    selected: list[DocumentClause] = []
    for section in template.sections:
        for slot in section.slots:
            clause = clauses[(slot.clause_id, slot.clause_version)]
            if slot.include_when is not None and not _holds(slot.include_when, deal, clause):
                continue
            variant = next((rule.use for rule in slot.variants if _holds(rule.when, deal, clause)), STANDARD)
            text = clause.text if variant == STANDARD else next(f.text for f in clause.fallbacks if f.name == variant)
            unresolved = sorted(names_in(text) - values.keys())
            if unresolved:
                raise invalid(rules.DRAFT_VARIABLE_UNRESOLVED,
                              f"clause {clause.key} ({variant}) uses {', '.join(unresolved)}, which has no value",
                              field=f"variables.{unresolved[0]}", clause=clause.key, variables=unresolved)
            try:
                rendered = render(text, values)
            except TextInvalid as exc:
                raise invalid(rules.CLAUSE_TEXT_INVALID, f"clause {clause.key} ({variant}) cannot be rendered: {exc}",
                              field="variables", clause=clause.key) from None
            selected.append(DocumentClause(
                number=str(len(selected) + 1), heading=clause.title, text=rendered,
                clause_id=clause.clause_id, clause_version=clause.version, variant=variant,
            ))
    return tuple(selected)


def compose_document(template: TemplateVersionPublished, clauses: PinnedClauses, *, title: str,
                     parties: tuple[tuple[str, str], ...], deal: Mapping[str, object], variables: Mapping[str, object],
                     pricing: PricingAppendix | None) -> ContractDocument:
    if template.pricing_appendix and pricing is None:
        raise invalid(rules.DRAFT_PRICING_MISSING, f"template {template.name} ends with a pricing appendix: "
                      "give the quote lines", field="pricing")
    return ContractDocument(title=title, parties=parties, clauses=select_clauses(template, clauses, deal, variables),
                            pricing=pricing if template.pricing_appendix else None)


def _holds(source: str, deal: Mapping[str, object], clause: ClauseVersionPublished) -> bool:
    try:
        return compile_condition(source).holds(deal)
    except ConditionFailed as exc:
        raise invalid(rules.DRAFT_CONDITION_FAILED, f"clause {clause.key}: {exc}", field="deal", clause=clause.key) from None


def _values(declared: list[TemplateVariable], given: Mapping[str, object]) -> dict[str, str]:
    """The given variables as the text they print as, checked against their declared types."""
    values: dict[str, str] = {}
    types = {v.name: v.type for v in declared}
    for variable in declared:
        if variable.required and given.get(variable.name) is None:
            raise invalid(rules.DRAFT_VARIABLE_REQUIRED, f"the template requires the variable {variable.name}",
                          field=f"variables.{variable.name}")
    for name, value in given.items():
        if value is None:
            continue
        printed = _printed(types.get(name, "string"), value)
        if printed is None:
            raise invalid(rules.DRAFT_VARIABLE_INVALID, f"the variable {name} must be a {types.get(name, 'string')}, not {value!r}",
                          field=f"variables.{name}")
        values[name] = printed
    return values


def _printed(kind: str, value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "integer":
        return str(value) if isinstance(value, int) else None
    if kind == "decimal":
        try:
            return str(Decimal(str(value))) if isinstance(value, (int, float, str, Decimal)) else None
        except InvalidOperation:
            return None
    try:  # date
        return dt.date.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None
