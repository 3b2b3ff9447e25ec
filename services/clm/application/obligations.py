"""Use cases of obligations (phase 7): record one by hand or from the executed terms, complete an
occurrence with a note and evidence, cancel, and read them with their occurrences' states. Each
command writes the aggregate and its index rows in one unit of work."""

import datetime as dt
from uuid import UUID, uuid5

from shared.backbone.clock import Clock, today_in
from shared.backbone.errors import AlreadyExists, Forbidden, NotFound, invalid, too_large
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.obligations import EvidenceDocument, ObligationKind, Recurrence
from services.clm.adapters import obligation_index as index
from services.clm.adapters.documents import document_store
from services.clm.adapters.documents_pg import DocumentMissing
from services.clm.domain import rules
from services.clm.domain.contract import Contract
from services.clm.domain.obligation import Obligation, Origin

OBLIGATION = "obligation"
EXECUTED_TERMS_BY = "clm.executed_terms"
CONTRACT_MANAGER = "contract_manager"


def contract_zone(contract: Contract) -> str:
    """The executed or drafted contract's zone; a request not drafted yet has its requested one."""
    if contract.executed or contract.terms:
        return contract.contract_dates[2]
    return (contract.request_terms.time_zone if contract.request_terms else None) or "UTC"


def payment_obligation_id(contract_id: UUID) -> UUID:
    return uuid5(contract_id, "payment")


async def _save(uow: UnitOfWork, obligation: Obligation) -> None:
    await index.save(uow.conn, obligation)
    await uow.commit()


@created_once
async def record(uow: UnitOfWork, contract_id: UUID, obligation_id: UUID, *, kind: ObligationKind, description: str,
                 owners: list[str], due_date: dt.date | None, recurrence: Recurrence | None,
                 source_clause: str | None, by: str, at: dt.datetime) -> tuple[Obligation, bool]:
    """(obligation, created): the same id with the same terms again answers the one recorded."""
    async with uow:
        contract = await uow.get(Contract, str(contract_id))
        if contract is None:
            raise NotFound("contract", contract_id, field="contract_id")
        new = Obligation.record_new(obligation_id, contract_id=contract_id, kind=kind, description=description,
                                    owners=owners, due_date=due_date, recurrence=recurrence,
                                    time_zone=contract_zone(contract), source_clause=source_clause, origin="manual",
                                    by=by, at=at)
        existing = await uow.get(Obligation, str(obligation_id))
        if existing is not None:
            if _same(existing, new):
                return existing, False
            raise AlreadyExists(OBLIGATION, obligation_id, field="obligation_id")
        uow.add(new)
        await _save(uow, new)
        return new, True


def _same(a: Obligation, b: Obligation) -> bool:
    fields = {"contract_id", "kind", "description", "owners", "due_date", "recurrence", "source_clause"}
    return a.recorded.model_dump(include=fields) == b.recorded.model_dump(include=fields)


async def record_from_executed_terms(uow: UnitOfWork, contract: Contract, at: dt.datetime) -> None:
    """At execution, in its unit of work: a payment obligation due `payment_days` after the start
    date when the negotiated terms carry them, owned by finance (once: its id follows from the contract)."""
    days = contract.negotiated_terms.payment_days
    if days is None or contract.executed is None:
        return
    obligation_id = payment_obligation_id(contract.contract_uuid)
    if await uow.get(Obligation, str(obligation_id)) is not None:
        return
    start, _, zone = contract.contract_dates
    obligation = Obligation.record_new(
        obligation_id, contract_id=contract.contract_uuid, kind="payment",
        description=f"Payment due {days} days after the start date ({start})", owners=["role:finance"],
        due_date=start + dt.timedelta(days=days), recurrence=None, time_zone=zone, source_clause=None,
        origin="executed_terms", by=EXECUTED_TERMS_BY, at=at)
    uow.add(obligation)
    await index.save(uow.conn, obligation)


async def complete(uow: UnitOfWork, obligation_id: UUID, due_on: dt.date, *, note: str,
                   evidence: tuple[bytes, str, str] | None, subject: str, roles: set[str],
                   at: dt.datetime) -> tuple[Obligation, bool]:
    """(obligation, completed now). `evidence`: (content, media type, file name), stored with the
    completion; a second completion of the occurrence changes nothing (and stores nothing)."""
    async with uow:
        obligation = await uow.require(Obligation, str(obligation_id), OBLIGATION)
        if CONTRACT_MANAGER not in roles and not obligation.may_complete(subject, None, roles):
            raise Forbidden(rules.OBLIGATION_NOT_OWNER, "only an owner of the obligation or a contract manager "
                            "completes it", field="due_on")
        if due_on in obligation.completed:
            return obligation, False
        stored = None
        if evidence is not None:
            content, media_type, filename = evidence
            check_evidence(content, media_type)
            stored = await document_store(uow.conn).put(content, media_type, filename)
        done = EvidenceDocument(sha256=stored.sha256, filename=stored.filename, media_type=stored.media_type,
                                size=stored.size) if stored else None
        obligation.complete(due_on, note=note, evidence=done, by=subject, at=at)
        if stored is not None:
            await index.save_evidence(uow.conn, obligation.obligation_id, due_on, stored.document_id)
        await _save(uow, obligation)
        return obligation, True


def check_evidence(content: bytes, media_type: str) -> None:
    if len(content) > rules.EVIDENCE_MAX_BYTES:
        raise too_large(rules.OBLIGATION_EVIDENCE_TOO_LARGE, f"evidence is at most {rules.EVIDENCE_MAX_BYTES} bytes",
                        field="evidence", limit_bytes=rules.EVIDENCE_MAX_BYTES)
    if media_type not in rules.EVIDENCE_MEDIA_TYPES or not content:
        raise invalid(rules.OBLIGATION_EVIDENCE_MEDIA_TYPE,
                      f"evidence is a non-empty file of {', '.join(sorted(rules.EVIDENCE_MEDIA_TYPES))}, "
                      f"not {media_type or 'no media type'}", field="evidence")


async def cancel(uow: UnitOfWork, obligation_id: UUID, *, reason: str | None, by: str, at: dt.datetime) -> Obligation:
    async with uow:
        obligation = await uow.require(Obligation, str(obligation_id), OBLIGATION)
        if obligation.cancel(reason=reason, by=by, at=at):
            await _save(uow, obligation)
        return obligation


async def get(uow: UnitOfWork, obligation_id: UUID, clock: Clock) -> tuple[Obligation, dt.date]:
    """The obligation and today in its zone (its occurrences' states follow from it)."""
    async with uow:
        obligation = await uow.require(Obligation, str(obligation_id), OBLIGATION)
        return obligation, today_in(clock, obligation.recorded.time_zone)


async def of_contract(uow: UnitOfWork, contract_id: UUID, *, after: UUID | None, limit: int) -> list[dict]:
    async with uow:
        if await uow.get(Contract, str(contract_id)) is None:
            raise NotFound("contract", contract_id, field="contract_id")
        return await index.of_contract(uow.conn, contract_id, after=after, limit=limit)


async def evidence(uow: UnitOfWork, obligation_id: UUID, due_on: dt.date):
    """(DocumentRef, bytes) of the occurrence's evidence; NotFound without one."""
    async with uow:
        await uow.require(Obligation, str(obligation_id), OBLIGATION)
        document_id = await index.evidence_of(uow.conn, obligation_id, due_on)
        if document_id is None:
            raise NotFound("evidence", f"of {obligation_id} due on {due_on}", field="due_on")
        try:
            return await document_store(uow.conn).get(document_id)
        except DocumentMissing:
            raise NotFound("document", document_id) from None
