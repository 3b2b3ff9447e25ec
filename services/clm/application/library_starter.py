"""Installs the starter library (starter_library.yaml) idempotently: what is already there, by its
id, is left as it is; clauses and templates are created in one unit of work."""

from dataclasses import dataclass
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import yaml

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.library import ClauseVariant, TemplateVariable, VariantRule
from services.clm.application.library import index_clause
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.template import SectionDraft, SlotDraft, Template, TemplateContent

DATA = Path(__file__).with_name("starter_library.yaml")
_NAMESPACE = uuid5(NAMESPACE_URL, "urn:clm-platform:starter-library")


def clause_id(key: str) -> UUID:
    return uuid5(_NAMESPACE, f"clause/{key}")


def template_id(kind: str) -> UUID:
    return uuid5(_NAMESPACE, f"template/{kind}")


@dataclass(frozen=True)
class Installed:
    clauses: dict[str, UUID]
    templates: dict[str, UUID]
    created: int  # clauses and templates created by this call


async def install_starter_library(uow: UnitOfWork) -> Installed:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    created = 0
    async with uow:
        clauses: dict[str, Clause] = {}
        for entry in data["clauses"]:
            cid = clause_id(entry["key"])
            clause = await uow.get(Clause, str(cid))
            if clause is None:
                clause = Clause.create(cid, key=entry["key"], title=entry["title"], text=entry["text"],
                                       fallbacks=[ClauseVariant(**f) for f in entry.get("fallbacks", [])])
                uow.add(clause)
                await index_clause(uow, clause)
                created += 1
            clauses[entry["key"]] = clause
        for entry in data["templates"]:
            tid = template_id(entry["kind"])
            if await uow.get(Template, str(tid)) is not None:
                continue
            content = _content(entry, clauses, data["variables"])
            template = Template.create(tid, entry["kind"], content, {c.latest.clause_id: c for c in clauses.values()})
            uow.add(template)
            await uow.views.library.follow_template(template)
            created += 1
        await uow.commit()
    return Installed({k: clause_id(k) for k in clauses}, {t["kind"]: template_id(t["kind"]) for t in data["templates"]},
                     created)


def _content(entry: dict, clauses: dict[str, Clause], types: dict[str, str]) -> TemplateContent:
    sections = tuple(
        SectionDraft(section["heading"], tuple(
            SlotDraft(clause_id=clause_id(slot["clause"]), include_when=slot.get("include_when"),
                      variants=tuple(VariantRule(**rule) for rule in slot.get("variants", [])))
            for slot in section["slots"]))
        for section in entry["sections"]
    )
    used: set[str] = set()
    for section in entry["sections"]:
        for slot in section["slots"]:
            version = clauses[slot["clause"]].latest
            used |= set(version.variables)
    variables = tuple(TemplateVariable(name=name, type=types[name], required=True) for name in sorted(used))
    return TemplateContent(name=entry["name"], sections=sections, variables=variables,
                           pricing_appendix=entry.get("pricing_appendix", False))
