"""Use cases of the clause and template library, and drafting a document from a template version.
Each runs in one unit of work: load, decide, append (and index), commit."""

import re
from dataclasses import dataclass
from typing import Mapping
from uuid import UUID

from shared.backbone.errors import AlreadyExists, ConflictingState, NotFound
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.documents import DocumentRef
from shared.events.library import ClauseVariant, TemplateKind, TemplateVersionPublished
from services.clm.adapters.documents import document_store
from services.clm.adapters.documents_pg import DocumentMissing
from services.clm.adapters.word.writer import MEDIA_TYPE as DOCX, render_docx
from services.clm.application.ports import DocumentStore
from services.clm.domain.documents.model import ContractDocument, PricingAppendix
from services.clm.domain.library import rules
from services.clm.domain.library.clause import Clause
from services.clm.domain.library.selection import compose_document
from services.clm.domain.library.template import Template, TemplateContent, referenced_clauses


@created_once
async def create_clause(uow: UnitOfWork, clause_id: UUID, *, key: str, title: str, text: str,
                        fallbacks: list[ClauseVariant]) -> tuple[Clause, bool]:
    """Returns (clause, created). Retrying the same request with the same id is harmless."""
    async with uow:
        requested = Clause.create(clause_id, key=key, title=title, text=text, fallbacks=fallbacks)
        existing = await uow.get(Clause, str(clause_id))
        if existing is not None:
            if existing.versions[0] == requested.pending_events[0]:
                return existing, False
            raise AlreadyExists("clause", clause_id, field="clause_id")
        uow.add(requested)
        await index_clause(uow, requested)
        await uow.commit()
        return requested, True


async def publish_clause_version(uow: UnitOfWork, clause_id: UUID, expected_version: int | None, *, title: str,
                                 text: str, fallbacks: list[ClauseVariant]) -> Clause:
    async with uow:
        clause = await uow.require(Clause, str(clause_id), "clause", expected_version)
        clause.publish(title=title, text=text, fallbacks=fallbacks)
        await index_clause(uow, clause)
        await uow.commit()
        return clause


async def index_clause(uow: UnitOfWork, clause: Clause) -> None:
    if not await uow.views.library.follow_clause(clause):
        holder = await uow.views.library.clause_with_key(clause.key)
        raise ConflictingState(rules.CLAUSE_KEY_TAKEN, f"the key {clause.key} is the key of clause {holder}",
                               field="key", clause_id=str(holder))


async def get_clause(uow: UnitOfWork, clause_id: UUID) -> Clause:
    async with uow:
        return await uow.require(Clause, str(clause_id), "clause")


async def list_clauses(uow: UnitOfWork, after: UUID | None, limit: int) -> list:
    async with uow:
        return await uow.views.library.clauses(after, limit)


@created_once
async def create_template(uow: UnitOfWork, template_id: UUID, kind: TemplateKind,
                          content: TemplateContent) -> tuple[Template, bool]:
    async with uow:
        library = await _clauses(uow, referenced_clauses(content))
        requested = Template.create(template_id, kind, content, library)
        existing = await uow.get(Template, str(template_id))
        if existing is not None:
            if existing.versions[0] == requested.pending_events[0]:
                return existing, False
            raise AlreadyExists("template", template_id, field="template_id")
        uow.add(requested)
        await uow.views.library.follow_template(requested)
        await uow.commit()
        return requested, True


async def publish_template_version(uow: UnitOfWork, template_id: UUID, expected_version: int | None,
                                   content: TemplateContent) -> Template:
    async with uow:
        template = await uow.require(Template, str(template_id), "template", expected_version)
        template.publish(content, await _clauses(uow, referenced_clauses(content)))
        await uow.views.library.follow_template(template)
        await uow.commit()
        return template


async def _clauses(uow: UnitOfWork, ids: set[UUID]) -> dict[UUID, Clause]:
    found = {clause_id: await uow.get(Clause, str(clause_id)) for clause_id in sorted(ids)}
    return {clause_id: clause for clause_id, clause in found.items() if clause is not None}


async def get_template(uow: UnitOfWork, template_id: UUID) -> Template:
    async with uow:
        return await uow.require(Template, str(template_id), "template")


async def list_templates(uow: UnitOfWork, kind: str | None, after: UUID | None, limit: int) -> list:
    async with uow:
        return await uow.views.library.templates(kind, after, limit)


@dataclass(frozen=True)
class DraftRequest:
    """What a draft is made of besides the template: the deal fields, the variables and the document's frame."""

    deal: Mapping[str, object]
    variables: Mapping[str, object]
    title: str | None
    parties: tuple[tuple[str, str], ...]
    pricing: PricingAppendix | None


@dataclass(frozen=True)
class Preview:
    template: TemplateVersionPublished
    document: ContractDocument


async def preview(uow: UnitOfWork, template_id: UUID, version: int, request: DraftRequest) -> Preview:
    async with uow:
        return await _preview(uow, template_id, version, request)


async def preview_docx(uow: UnitOfWork, template_id: UUID, version: int, request: DraftRequest) -> tuple[DocumentRef, bytes]:
    """The .docx of a preview, stored (the same bytes are stored once) so it can be downloaded again."""
    async with uow:
        drafted = await _preview(uow, template_id, version, request)
        content = render_docx(drafted.document)
        store: DocumentStore = document_store(uow.conn)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{drafted.template.kind}-{drafted.template.name}")[:200]
        ref = await store.put(content, DOCX, f"{name}-v{version}.docx")  # ASCII: it goes into Content-Disposition
        await uow.commit()
        return ref, content


async def _preview(uow: UnitOfWork, template_id: UUID, version: int, request: DraftRequest) -> Preview:
    template = await uow.require(Template, str(template_id), "template")
    pinned = template.version_of(version)
    if pinned is None:
        raise NotFound("template_version", f"{template_id} v{version}")
    clauses = {}
    for section in pinned.sections:
        for slot in section.slots:
            clause = await uow.get(Clause, str(slot.clause_id))
            clauses[(slot.clause_id, slot.clause_version)] = clause.version_of(slot.clause_version)
    document = compose_document(pinned, clauses, title=request.title or pinned.name, parties=request.parties,
                                deal=request.deal, variables=request.variables, pricing=request.pricing)
    return Preview(pinned, document)


async def get_document(uow: UnitOfWork, document_id: UUID) -> tuple[DocumentRef, bytes]:
    async with uow:
        try:
            return await document_store(uow.conn).get(document_id)
        except DocumentMissing:
            raise NotFound("document", document_id) from None

