"""Use cases of signature (phase 5): send an envelope for the approved version, sign or decline by a
one-time link, reminders and the deadline from the scheduler, cancellation, execution and the
downloads. Each runs in one unit of work: the events, the links and the mails to send commit
together (a mail is sent after the commit by the send loop, application/signing_mail.py)."""

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Callable
from uuid import UUID

from shared.backbone.errors import DomainError, NotFound, RuleKind, invalid
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.documents import DocumentRef
from shared.events.signature import Signer
from services.clm.adapters.documents import document_store
from services.clm.adapters.documents_pg import DocumentMissing
from services.clm.adapters.signature import tables
from services.clm.adapters.signature.documents import PDF, audit_certificate, signed_copy
from services.clm.application.contract_requests import commit
from services.clm.application.obligations import record_from_executed_terms
from services.clm.application.ports import SignatureProvider
from services.clm.application.signature_settings import signature_settings
from services.clm.domain import rules
from services.clm.domain.contract import Contract
from services.clm.domain.contract.signature import SignerState, check_signers

CONTRACT = "contract"
LINK_GONE = "signature.link_gone"


class LinkGone(DomainError):
    """A link used, replaced or expired: 410 on the page."""

    def __init__(self, message: str):
        super().__init__(LINK_GONE, message, field="token", kind=RuleKind.CONFLICT)


@dataclass(frozen=True)
class SigningView:
    contract: Contract
    signer: SignerState
    token_expires_at: dt.datetime


async def send_envelope(uow: UnitOfWork, contract_id: UUID, *, envelope_id: UUID, signers: list[Signer],
                        deadline: dt.datetime, reminder_every_days: int | None, provider: SignatureProvider,
                        version_number: int | None, by: str, at: dt.datetime,
                        expected_version: int | None = None) -> tuple[Contract, bool]:
    """(contract, created): the same envelope id again answers the envelope sent (nothing twice)."""
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT, expected_version)
        if contract.envelope is not None and contract.envelope.envelope_id == envelope_id:
            return contract, False
        approved = contract.check_can_request_signature(version_number)
        check_signers(signers)  # the aggregate checks again; here before a provider creates anything
        if deadline <= at:
            raise invalid(rules.SIGNATURE_DEADLINE_PAST, "the deadline lies in the future", field="deadline")
        version = contract.version_numbered(approved)
        provider_envelope_id = None
        if provider.name != "builtin":
            _, content = await _document(uow, version.document)
            provider_envelope_id = await provider.create_envelope(
                envelope_id=envelope_id, title=contract.terms.title, document=content,
                filename=version.document.filename, signers=signers, deadline=deadline, at=at)
            await tables.remember_provider_envelope(uow.conn, provider.name, provider_envelope_id, contract.contract_uuid,
                                                    envelope_id)
        expires = _link_expiry(at, deadline) if provider.name == "builtin" else None
        contract.request_signature(
            envelope_id=envelope_id, signers=signers, deadline=deadline, provider=provider.name,
            document=version.document, by=by, at=at, reminder_every_days=reminder_every_days,
            version_number=version_number, provider_envelope_id=provider_envelope_id, link_expires_at=expires)
        await _mail_links(uow, contract, [s for s in signers if contract.envelope.signers[s.signer_id].invited_at], at)
        await commit(uow)
        return contract, True


async def get_contract(uow: UnitOfWork, contract_id: UUID) -> Contract:
    async with uow:
        return await uow.require(Contract, str(contract_id), CONTRACT)


async def cancel(uow: UnitOfWork, contract_id: UUID, *, reason: str, by: str, at: dt.datetime,
                 providers: Callable[[str], SignatureProvider], expected_version: int | None = None) -> Contract:
    """Voids the envelope in clm and, for DocuSign / Adobe Sign, at the provider before the commit."""
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT, expected_version)
        contract.cancel_signature(reason=reason, by=by, at=at)
        requested = contract.envelope.requested
        if requested.provider_envelope_id:
            await providers(requested.provider).cancel_envelope(requested.provider_envelope_id, reason)
        await commit(uow)
        return contract


# -- built-in signing by one-time link -------------------------------------------------------------


async def open_link(uow: UnitOfWork, token: str, *, at: dt.datetime, ip: str | None, user_agent: str | None) -> SigningView:
    """The signing page: the first view is recorded."""
    async with uow:
        view = await _signer_of_link(uow, token, at)
        view.contract.view(view.contract.envelope.envelope_id, view.signer.signer.signer_id, at=at, ip=ip,
                           user_agent=_short(user_agent))
        await commit(uow)
        return view


async def sign_by_link(uow: UnitOfWork, token: str, *, typed_name: str, consent: bool, at: dt.datetime,
                       ip: str | None, user_agent: str | None) -> Contract:
    async with uow:
        view = await _signer_of_link(uow, token, at, lock=True)
        if not consent:
            raise invalid(rules.SIGNATURE_CONSENT_REQUIRED, "tick the box to consent to signing electronically",
                          field="consent")
        contract, envelope_id = view.contract, view.contract.envelope.envelope_id
        invited = contract.sign(envelope_id, view.signer.signer.signer_id, at=at, typed_name=typed_name, ip=ip,
                                user_agent=_short(user_agent), link_expires_at=_link_expiry(at, contract.envelope.requested.deadline))
        await tables.use_token(uow.conn, token, at)
        await after_signing(uow, contract, invited, at)
        await commit(uow)
        return contract


async def decline_by_link(uow: UnitOfWork, token: str, *, reason: str, at: dt.datetime, ip: str | None,
                          user_agent: str | None) -> Contract:
    async with uow:
        view = await _signer_of_link(uow, token, at, lock=True)
        contract = view.contract
        contract.decline(contract.envelope.envelope_id, view.signer.signer.signer_id, reason=reason, at=at, ip=ip,
                         user_agent=_short(user_agent))
        await tables.use_token(uow.conn, token, at)
        await commit(uow)
        return contract


async def _signer_of_link(uow: UnitOfWork, token: str, at: dt.datetime, lock: bool = False) -> SigningView:
    row = await tables.token_row(uow.conn, token, lock=lock)
    if row is None:
        raise NotFound("signing_link", "this link", field="token")
    if row.used_at is not None:
        raise LinkGone("this link was used already")
    if row.revoked_at is not None:
        raise LinkGone("a newer link was sent for this signer: open the latest mail")
    if row.expires_at <= at:
        raise LinkGone("this link has expired")
    contract = await uow.require(Contract, str(row.contract_id), CONTRACT)
    envelope = contract.envelope
    if envelope is None or envelope.envelope_id != row.envelope_id or not envelope.is_open:
        raise LinkGone(f"this envelope is {envelope.status if envelope else 'gone'}")
    state = envelope.signers[row.signer_id]
    if not state.pending:
        raise LinkGone(f"you have {state.status}")
    return SigningView(contract, state, row.expires_at)


# -- after signing, and execution -------------------------------------------------------------------


async def after_signing(uow: UnitOfWork, contract: Contract, invited: list[Signer], at: dt.datetime) -> None:
    """The next group's links, or, when every signer signed, the signed copy, its audit certificate
    and ContractExecuted."""
    if contract.envelope.requested.provider == "builtin":
        await _mail_links(uow, contract, invited, at)
    if contract.envelope.all_signed:
        await execute(uow, contract, at)


async def execute(uow: UnitOfWork, contract: Contract, at: dt.datetime, completed_document: bytes | None = None) -> None:
    """`completed_document`: the provider's completed PDF, else the version's .docx with a signature page."""
    envelope = contract.envelope
    store = document_store(uow.conn)
    number = contract.terms.number
    if completed_document is None:
        original, content = await _document(uow, envelope.requested.document)
        signed = await store.put(signed_copy(content, envelope, title=contract.terms.title), original.media_type,
                                 f"{number}-v{envelope.requested.version_number}-signed.docx")
    else:
        signed = await store.put(completed_document, PDF, f"{number}-v{envelope.requested.version_number}-signed.pdf")
    certificate = await store.put(audit_certificate(envelope, title=contract.terms.title, number=number,
                                                    signed_sha256=signed.sha256, at=at),
                                  PDF, f"{number}-audit-certificate.pdf")
    contract.execute(signed_document=signed, audit_certificate=certificate, at=at)
    await record_from_executed_terms(uow, contract, at)  # the payment obligation, in the same transaction


async def executed_document(uow: UnitOfWork, contract_id: UUID, which: str) -> tuple[DocumentRef, bytes]:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT)
        if contract.executed is None:
            raise NotFound("executed_contract", contract_id, field="contract_id")
        ref = contract.executed.signed_document if which == "signed" else contract.executed.audit_certificate
        return await _document(uow, ref)


# -- the scheduler's dates ---------------------------------------------------------------------------


async def remind(uow: UnitOfWork, contract_id: UUID, envelope_id: UUID, signer_id: UUID, at: dt.datetime) -> None:
    """SignatureReminderDue: a fresh link for a signer still pending (the old one stops working)."""
    contract = await uow.get(Contract, str(contract_id))
    if contract is None or contract.envelope is None:
        return
    builtin = contract.envelope.requested.provider == "builtin"
    expires = _link_expiry(at, contract.envelope.requested.deadline) if builtin else None
    if contract.remind(envelope_id, signer_id, at=at, link_expires_at=expires) and builtin:
        await _mail_links(uow, contract, [contract.envelope.signers[signer_id].signer], at, reminder=True)


async def expire(uow: UnitOfWork, contract_id: UUID, envelope_id: UUID, at: dt.datetime) -> None:
    contract = await uow.get(Contract, str(contract_id))
    if contract is not None:
        contract.expire(envelope_id, at=at)


# -- helpers -----------------------------------------------------------------------------------------


def _link_expiry(at: dt.datetime, deadline: dt.datetime) -> dt.datetime:
    return min(deadline, at + dt.timedelta(days=signature_settings().signing_link_days))


async def _mail_links(uow: UnitOfWork, contract: Contract, signers: list[Signer], at: dt.datetime,
                      reminder: bool = False) -> None:
    envelope = contract.envelope
    settings = signature_settings()
    expires = _link_expiry(at, envelope.requested.deadline)
    for signer in signers:
        token = secrets.token_urlsafe(32)
        await tables.issue_token(uow.conn, token, contract_id=contract.contract_uuid, envelope_id=envelope.envelope_id,
                                 signer_id=signer.signer_id, at=at, expires_at=expires)
        link = f"{settings.signing_base_url.rstrip('/')}/sign/{token}"
        subject = f"{'Reminder: ' if reminder else ''}Please sign {contract.terms.title}"
        body = (f"Dear {signer.name},\n\nplease review and sign \"{contract.terms.title}\" "
                f"(version {envelope.requested.version_number}):\n\n{link}\n\n"
                f"The link works once and until {expires:%Y-%m-%d %H:%M} UTC; the envelope's deadline is "
                f"{envelope.requested.deadline:%Y-%m-%d %H:%M} UTC.\n")
        await tables.queue_mail(uow.conn, address=signer.email, subject=subject, body=body, at=at)


async def _document(uow: UnitOfWork, ref: DocumentRef) -> tuple[DocumentRef, bytes]:
    try:
        return await document_store(uow.conn).get(ref.document_id)
    except DocumentMissing:
        raise NotFound("document", ref.document_id) from None


def _short(user_agent: str | None) -> str | None:
    return user_agent[:1000] if user_agent else None
