"""Drafting a requested contract from a template version: the library's selection with the
request's deal fields and variables, the .docx rendered and stored, and the contract's events, all
in one unit of work (a refusal anywhere leaves no document and no event behind)."""

import datetime as dt
import re
from typing import Mapping
from uuid import UUID

from shared.backbone.errors import NotFound
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.library import ClauseVersionPublished, TemplateVersionPublished
from shared.events.negotiation import NegotiatedTerms, TemplateUsed, VersionClause
from services.clm.adapters.documents import document_store
from services.clm.adapters.word.writer import MEDIA_TYPE as DOCX, render_docx
from services.clm.application.contract_requests import REQUEST, commit
from services.clm.application.ports import DocumentStore
from services.clm.domain.contract import Contract
from services.clm.domain.documents import values
from services.clm.domain.documents.model import ContractDocument
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.selection import PinnedClauses, compose_document
from services.clm.domain.library.template import Template


async def draft_from_template(uow: UnitOfWork, contract_id: UUID, *, template_id: UUID, template_version: int | None,
                              start_date: dt.date | None, variables: Mapping[str, object], vendor: str, by: str,
                              at: dt.datetime, expected_version: int | None = None) -> Contract:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), REQUEST, expected_version)
        contract.check_draftable()
        start, _ = contract.drafting_dates(start_date)
        template, pinned, clauses = await load_template(uow, template_id, template_version)
        # What the template declares (its clauses use no other name): the rest is not the draft's.
        declared = {v.name for v in pinned.variables}
        given = {k: v for k, v in {**variables, **contract.request_variables(vendor, start)}.items() if k in declared}
        document = compose_document(
            pinned, clauses, title=contract.request_terms.title, parties=tuple((p.role, p.name) for p in contract.parties(vendor)),
            deal=contract.deal_fields(), variables=given, pricing=None)
        store: DocumentStore = document_store(uow.conn)
        ref = await store.put(render_docx(document), DOCX, _filename(contract.requested.number, 1))
        contract.draft_from_template(
            template=TemplateUsed(template_id=template_id, template_version=pinned.version, kind=template.kind),
            vendor=vendor, start_date=start_date, variables={k: _text(v) for k, v in given.items()},
            clauses=[VersionClause(number=c.number, heading=c.heading, text=c.text, clause_id=c.clause_id,
                                   clause_version=c.clause_version, variant=c.variant) for c in document.clauses],
            terms=terms_of(document, given), document=ref, by=by, at=at)
        await commit(uow)
        return contract


async def load_template(uow: UnitOfWork, template_id: UUID,
                        version: int | None) -> tuple[Template, TemplateVersionPublished, PinnedClauses]:
    """The template version (the latest when none is named) and the clause versions it pins."""
    template = await uow.require(Template, str(template_id), "template")
    pinned = template.latest if version is None else template.version_of(version)
    if pinned is None:
        raise NotFound("template_version", f"{template_id} v{version}", field="template_version")
    return template, pinned, await pinned_clauses(uow, [pinned])


async def pinned_clauses(uow: UnitOfWork, versions: list[TemplateVersionPublished]) -> dict:
    found: dict[tuple[UUID, int], ClauseVersionPublished] = {}
    for template in versions:
        for section in template.sections:
            for slot in section.slots:
                key = (slot.clause_id, slot.clause_version)
                if key not in found:
                    clause = await uow.get(Clause, str(slot.clause_id))
                    found[key] = clause.version_of(slot.clause_version)
    return found


def terms_of(document: ContractDocument, given: Mapping[str, object]) -> NegotiatedTerms:
    """The terms version 1 states: read from its clauses, the variables' values where they name one."""
    read = values.read_terms([c.text for c in document.clauses])
    return with_values(NegotiatedTerms(**read.__dict__), {k: _text(v) for k, v in given.items()})


def with_values(terms: NegotiatedTerms, found: Mapping[str, str]) -> NegotiatedTerms:
    """`terms` with what the placeholder values liability_cap, payment_days and governing_law say."""
    update: dict[str, object] = {}
    if found.get("liability_cap") and (money := values.parse_amount(found["liability_cap"])) is not None:
        update["liability_cap"] = money.amount
        update["liability_cap_currency"] = money.currency or terms.liability_cap_currency
    if found.get("payment_days") and found["payment_days"].strip().isdigit():
        update["payment_days"] = int(found["payment_days"])
    if found.get("governing_law"):
        update["governing_law"] = found["governing_law"].strip()
    return terms.model_copy(update=update)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _filename(number: str, version: int) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{number}-v{version}")[:200] + ".docx"
