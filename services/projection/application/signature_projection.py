"""clm's signature and execution events (phase 5) into the shared contract record: the envelope
(provider, deadline, state), each signer (invited, reminded, viewed, signed, declined and when) and
the executed version with its hash (the signed copy's SHA-256). On the contract's stream, in order."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.signature import (
    ContractExecuted, SignatureCanceled, SignatureExpired, SignatureRequested, SignerDeclined, SignerInvited,
    SignerReminded, SignerSigned, SignerViewed,
)
from services.projection.adapters import contract_records as records
from services.projection.adapters import contracting_records as progress


async def _requested(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignatureRequested = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    await progress.merge_progress(
        uow.conn, event.contract_id, envelope.time, envelope_id=event.envelope_id, signature_state="requested",
        signature_provider=event.provider, provider_envelope_id=event.provider_envelope_id,
        signature_version=event.version_number, signature_deadline=event.deadline, signature_since=event.at,
        signature_reason=None)
    for signer in event.signers:
        await progress.add_signer(uow.conn, event.envelope_id, signer.signer_id, contract_id=event.contract_id,
                                  name=signer.name, email=signer.email, role=signer.role,
                                  routing_order=signer.routing_order, state="waiting")


async def _invited(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignerInvited = envelope.event
    await progress.update_signer(uow.conn, event.envelope_id, event.signer_id, state="invited", invited_at=event.at)


async def _reminded(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignerReminded = envelope.event
    await progress.update_signer(uow.conn, event.envelope_id, event.signer_id, reminded_at=event.at)


async def _viewed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignerViewed = envelope.event
    await progress.update_signer(uow.conn, event.envelope_id, event.signer_id, state="viewed", viewed_at=event.at)


async def _signed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignerSigned = envelope.event
    await progress.update_signer(uow.conn, event.envelope_id, event.signer_id, state="signed", signed_at=event.at)


async def _declined(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignerDeclined = envelope.event
    await progress.update_signer(uow.conn, event.envelope_id, event.signer_id, state="declined", declined_at=event.at,
                                 decline_reason=event.reason)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, signature_state="declined",
                                  signature_since=event.at, signature_reason=event.reason)


async def _expired(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignatureExpired = envelope.event
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, signature_state="expired",
                                  signature_since=event.at)


async def _canceled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: SignatureCanceled = envelope.event
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, signature_state="canceled",
                                  signature_since=event.at, signature_reason=event.reason)


async def _executed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractExecuted = envelope.event
    await progress.merge_progress(
        uow.conn, event.contract_id, envelope.time, signature_state="executed", signature_since=event.executed_at,
        executed_version=event.version_number, executed_sha256=event.signed_document.sha256,
        signed_document=event.signed_document.model_dump(mode="json"),
        audit_certificate=event.audit_certificate.model_dump(mode="json"), executed_at=event.executed_at)


HANDLERS: HandlerTable = {
    SignatureRequested: _requested,
    SignerInvited: _invited,
    SignerReminded: _reminded,
    SignerViewed: _viewed,
    SignerSigned: _signed,
    SignerDeclined: _declined,
    SignatureExpired: _expired,
    SignatureCanceled: _canceled,
    ContractExecuted: _executed,
}
