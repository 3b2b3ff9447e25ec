"""Use cases of negotiation: a version uploaded (read, matched against the library, stored, its
deviations flagged), negotiated terms recorded, and the reads of versions: their documents, a
comparison of two, the redline. Each runs in one unit of work; a refused upload stores nothing."""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.errors import DomainError, NotFound, too_large
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.documents import DocumentRef
from shared.events.negotiation import ContractVersionAdded, NegotiatedTerms, VersionClause, VersionOrigin
from services.clm.adapters.documents import document_store
from services.clm.adapters.documents_pg import DocumentMissing
from services.clm.adapters.word.reader import UPLOAD_TOO_LARGE, read_docx
from services.clm.adapters.word.redline import redline_docx
from services.clm.adapters.word.writer import MEDIA_TYPE as DOCX
from services.clm.application.contract_requests import commit
from services.clm.application.drafting import _filename, pinned_clauses, with_values
from services.clm.domain.contract import Contract
from services.clm.domain.documents import values
from services.clm.domain.documents.compare import Comparison, compare
from services.clm.domain.documents.deviations import DeviationIndex, LibraryText
from services.clm.domain.documents.model import ContractDocument, DocumentClause
from services.clm.domain.library.clause import STANDARD, Clause
from services.clm.domain.library.placeholders import render
from services.clm.domain.library.template import Template

CONTRACT = "contract"


async def add_version(uow: UnitOfWork, contract_id: UUID, content: bytes, *, origin: VersionOrigin, by: str,
                      at: dt.datetime, max_bytes: int, expected_version: int | None = None) -> ContractVersionAdded:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT, expected_version)
        contract.check_can_add_version()
        document = read_docx(content, max_bytes=max_bytes)  # refuses before anything is stored
        index = await deviation_index(uow, contract)
        clauses, found = [], {}
        for clause in document.clauses:
            match = index.match(clause)
            closest = match.closest
            clauses.append(VersionClause(
                number=clause.number, heading=clause.heading, text=clause.text, match=match.kind, score=match.score,
                clause_id=closest.clause_id if closest else None, clause_version=closest.clause_version if closest else None,
                variant=closest.variant if closest else None))
            if match.kind != "non_standard":
                for name, value in match.values.items():
                    found.setdefault(name, value)
        read = values.read_terms([c.text for c in document.clauses])
        terms = with_values(NegotiatedTerms(**read.__dict__), found)
        number = len(contract.versions) + 1
        ref = await document_store(uow.conn).put(content, DOCX, _filename(contract.requested.number, number))
        added = contract.add_version(origin=origin, author=by, at=at, document=ref, clauses=clauses, terms=terms)
        await commit(uow)
        return added


def upload_too_large(limit: int) -> DomainError:
    """The reader's refusal, for an upload refused while it still streams in."""
    return too_large(UPLOAD_TOO_LARGE, f"the upload is larger than the limit of {limit} bytes", field="file",
                     limit_bytes=limit)


async def record_terms(uow: UnitOfWork, contract_id: UUID, terms: NegotiatedTerms, *, by: str, at: dt.datetime,
                       expected_version: int | None = None) -> Contract:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT, expected_version)
        contract.record_terms(terms, by=by, at=at)
        await commit(uow)
        return contract


async def get_contract(uow: UnitOfWork, contract_id: UUID) -> Contract:
    async with uow:
        return await _drafted(uow, contract_id)


async def version_document(uow: UnitOfWork, contract_id: UUID, number: int) -> tuple[DocumentRef, bytes]:
    async with uow:
        version = (await _drafted(uow, contract_id)).version_numbered(number)
        try:
            return await document_store(uow.conn).get(version.document.document_id)
        except DocumentMissing:
            raise NotFound("document", version.document.document_id) from None


async def comparison(uow: UnitOfWork, contract_id: UUID, old: int, new: int) -> Comparison:
    async with uow:
        contract = await _drafted(uow, contract_id)
        return compare(as_document(contract, old), as_document(contract, new))


async def redline(uow: UnitOfWork, contract_id: UUID, old: int, new: int) -> tuple[bytes, str]:
    async with uow:
        contract = await _drafted(uow, contract_id)
        later = contract.version_numbered(new)
        content = redline_docx(as_document(contract, old), as_document(contract, new), author=later.author,
                               date=later.added_at)
        return content, f"{contract.requested.number}-v{old}-v{new}-redline.docx"


def as_document(contract: Contract, number: int) -> ContractDocument:
    """A version as the comparison reads it: its clauses as recorded, the contract's title and parties."""
    version = contract.version_numbered(number)
    return ContractDocument(
        title=contract.terms.title, parties=tuple((p.role, p.name) for p in contract.terms.parties),
        clauses=tuple(DocumentClause(number=c.number, heading=c.heading, text=c.text) for c in version.clauses))


# -- the library a version is matched against ----------------------------------------------------


@dataclass(frozen=True)
class _Library:
    state: tuple[tuple[UUID, int], ...]  # (clause_id, latest version) of every clause
    index: DeviationIndex  # its texts prepared for matching (normalised, patterns compiled)


_cached: list[_Library] = []  # the last library read: rebuilt only when a clause version was published


async def deviation_index(uow: UnitOfWork, contract: Contract) -> DeviationIndex:
    """The contract's pinned clauses rendered with its variables, and every clause version of the
    library (standard text and approved fallbacks, placeholders as values)."""
    first = contract.versions[0]
    template = await uow.require(Template, str(first.template.template_id), "template")
    pinned = await pinned_clauses(uow, [template.version_of(first.template.template_version)])
    rendered = []
    for clause in pinned.values():
        for variant, text in [(STANDARD, clause.text), *((f.name, f.text) for f in clause.fallbacks)]:
            if clause.variables and not set(clause.variables) <= first.variables.keys():
                continue  # a variant this contract cannot print: the library's own entry covers it
            rendered.append(LibraryText(clause.clause_id, clause.version, variant, clause.title,
                                        render(text, first.variables), template=text))
    return (await _library_index(uow)).with_texts(rendered)


async def _library_index(uow: UnitOfWork) -> DeviationIndex:
    index, rows, after = uow.views.library, [], None
    while page := await index.clauses(after, 500):
        rows += page
        after = page[-1].clause_id
        if len(page) < 500:
            break
    state = tuple((row.clause_id, row.latest_version) for row in rows)
    if _cached and _cached[0].state == state:
        return _cached[0].index
    texts = []
    for clause_id, _ in state:
        clause = await uow.get(Clause, str(clause_id))
        for version in clause.versions:
            texts.append(LibraryText(clause_id, version.version, STANDARD, version.title, version.text))
            texts += [LibraryText(clause_id, version.version, f.name, version.title, f.text) for f in version.fallbacks]
    _cached[:] = [_Library(state, DeviationIndex.build(texts))]
    return _cached[0].index


async def _drafted(uow: UnitOfWork, contract_id: UUID) -> Contract:
    """A contract's versions are read whatever its state: one drafted by hand or only requested has none."""
    return await uow.require(Contract, str(contract_id), CONTRACT)
