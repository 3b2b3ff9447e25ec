"""A template of the library: versions of ordered sections of clause slots, declared variables and
an optional pricing appendix. A version pins the clause versions it uses, so publishing a new
clause version changes no template version (nor any draft made from one)."""

from dataclasses import dataclass, field
from typing import Mapping
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import invalid
from shared.events.library import (
    ClauseSlot, TemplateKind, TemplateSection, TemplateVariable, TemplateVersionPublished, VariantRule,
)
from services.clm.domain.library import rules
from services.clm.domain.library.clause import STANDARD, Clause
from services.clm.domain.library.conditions import ConditionInvalid, compile_condition


@dataclass(frozen=True)
class SlotDraft:
    """A slot as an editor writes it: without a clause version, it pins the clause's latest."""

    clause_id: UUID
    clause_version: int | None = None
    include_when: str | None = None
    variants: tuple[VariantRule, ...] = ()


@dataclass(frozen=True)
class SectionDraft:
    heading: str
    slots: tuple[SlotDraft, ...]


@dataclass(frozen=True)
class TemplateContent:
    name: str
    sections: tuple[SectionDraft, ...]
    variables: tuple[TemplateVariable, ...] = ()
    pricing_appendix: bool = False


class Template(Aggregate):
    stream_type = "template"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.versions: list[TemplateVersionPublished] = []

    @property
    def latest(self) -> TemplateVersionPublished:
        return self.versions[-1]

    @property
    def kind(self) -> TemplateKind:
        return self.versions[0].kind

    def version_of(self, number: int) -> TemplateVersionPublished | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None

    @classmethod
    def create(cls, template_id: UUID, kind: TemplateKind, content: TemplateContent,
               library: Mapping[UUID, Clause]) -> "Template":
        template = cls(str(template_id))
        template._publish(kind, content, library)
        return template

    def publish(self, content: TemplateContent, library: Mapping[UUID, Clause]) -> TemplateVersionPublished:
        """A new version; `library` holds (at least) the clauses its slots name."""
        return self._publish(self.kind, content, library)

    def _publish(self, kind: TemplateKind, content: TemplateContent, library: Mapping[UUID, Clause]) -> TemplateVersionPublished:
        declared = _declared(content.variables)
        sections = [
            TemplateSection(heading=section.heading, slots=[
                _pinned(slot, f"sections[{i}].slots[{j}]", library, declared) for j, slot in enumerate(section.slots)
            ])
            for i, section in enumerate(content.sections)
        ]
        event = TemplateVersionPublished(
            template_id=UUID(self.id), version=len(self.versions) + 1, kind=kind, name=content.name,
            sections=sections, variables=list(content.variables), pricing_appendix=content.pricing_appendix,
        )
        self.record(event)
        return event

    @applies
    def _on_version_published(self, event: TemplateVersionPublished) -> None:
        self.versions.append(event)


def referenced_clauses(content: TemplateContent) -> set[UUID]:
    return {slot.clause_id for section in content.sections for slot in section.slots}


def _declared(variables: tuple[TemplateVariable, ...]) -> set[str]:
    names: set[str] = set()
    for i, variable in enumerate(variables):
        if variable.name in names:
            raise invalid(rules.TEMPLATE_VARIABLE_DUPLICATE, f"the variable {variable.name} is declared twice",
                          field=f"variables[{i}].name")
        names.add(variable.name)
    return names


def _pinned(slot: SlotDraft, path: str, library: Mapping[UUID, Clause], declared: set[str]) -> ClauseSlot:
    clause = library.get(slot.clause_id)
    if clause is None:
        raise invalid(rules.TEMPLATE_CLAUSE_UNKNOWN, f"{path}.clause_id: no clause {slot.clause_id} in the library",
                      field=f"{path}.clause_id", clause_id=str(slot.clause_id))
    number = slot.clause_version or clause.latest.version
    version = clause.version_of(number)
    if version is None:
        raise invalid(rules.TEMPLATE_CLAUSE_VERSION_UNKNOWN, f"clause {clause.key} has no version {number} "
                      f"(latest: {clause.latest.version})", field=f"{path}.clause_version", clause=clause.key)
    conditions = [(f"{path}.include_when", slot.include_when)] if slot.include_when is not None else []
    conditions += [(f"{path}.variants[{k}].when", rule.when) for k, rule in enumerate(slot.variants)]
    for where, source in conditions:
        try:
            compile_condition(source)
        except ConditionInvalid as exc:
            raise invalid(rules.TEMPLATE_CONDITION_INVALID, f"clause {clause.key}: the condition at {where} is refused: {exc}",
                          field=where, clause=clause.key, condition=source, error=str(exc)) from None
    fallbacks = {f.name for f in version.fallbacks}
    for k, rule in enumerate(slot.variants):
        if rule.use != STANDARD and rule.use not in fallbacks:
            raise invalid(rules.TEMPLATE_VARIANT_UNKNOWN, f"clause {clause.key} v{number} has no fallback {rule.use!r} "
                          f"(it has: {', '.join(sorted(fallbacks)) or 'none'})", field=f"{path}.variants[{k}].use",
                          clause=clause.key)
    undeclared = sorted(set(version.variables) - declared)
    if undeclared:
        raise invalid(rules.TEMPLATE_VARIABLE_UNDECLARED, f"clause {clause.key} v{number} uses {', '.join(undeclared)}, "
                      "which the template does not declare", field="variables", clause=clause.key, variables=undeclared)
    return ClauseSlot(clause_id=slot.clause_id, clause_version=number, include_when=slot.include_when,
                      variants=list(slot.variants))
