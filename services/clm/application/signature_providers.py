"""The providers by name (their accounts from the environment) and what their webhooks do: each
provider event once (provider_receipts), applied to the envelope it names, executing the contract
when its last signer signed."""

import datetime as dt

from shared.backbone.errors import NotFound
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.signature import SignatureProviderName
from services.clm.adapters.signature import tables
from services.clm.adapters.signature.providers import (  # the webhooks API reads these through here
    AdobeSign, BuiltinProvider, DocuSign, ProviderAct, adobe_act, docusign_act, docusign_signature_valid,
)
from services.clm.application import signing
from services.clm.application.contract_requests import commit
from services.clm.application.ports import SignatureProvider
from services.clm.application.signature_settings import signature_settings
from services.clm.domain.contract import Contract

__all__ = ["Replayed", "adobe_act", "apply_provider_act", "docusign_act", "docusign_signature_valid", "provider_named"]


def provider_named(name: SignatureProviderName) -> SignatureProvider:
    s = signature_settings()
    if name == "docusign":
        return DocuSign(s.docusign_base_url, s.docusign_account_id,
                        s.docusign_access_token.get_secret_value() if s.docusign_access_token else "")
    if name == "adobe_sign":
        return AdobeSign(s.adobe_sign_base_url,
                         s.adobe_sign_access_token.get_secret_value() if s.adobe_sign_access_token else "")
    return BuiltinProvider()


class Replayed(Exception):
    """The provider event was received before: nothing changes (401 at the webhook)."""


async def apply_provider_act(uow: UnitOfWork, provider: SignatureProviderName, act: ProviderAct, body: bytes,
                             at: dt.datetime) -> Contract:
    """NotFound for an envelope we did not send (404); Replayed for an event received before."""
    async with uow:
        known = await tables.provider_envelope(uow.conn, provider, act.provider_envelope_id)
        if known is None:
            raise NotFound("envelope", f"{provider} {act.provider_envelope_id!r}", field="envelopeId")
        if not act.event_id or not await tables.receive_once(uow.conn, provider, act.event_id, body, at, known.contract_id):
            raise Replayed(act.event_id)
        contract = await uow.require(Contract, str(known.contract_id), signing.CONTRACT)
        envelope = contract.envelope
        signer = _signer(contract, act)
        when = act.at or at
        if act.kind != "ignored" and signer is not None and envelope.envelope_id == known.envelope_id \
                and envelope.is_open and signer.pending:
            sid = signer.signer.signer_id
            if act.kind == "viewed":
                contract.view(known.envelope_id, sid, at=when, ip=act.ip, provider_event_id=act.event_id)
            elif act.kind == "signed":
                invited = contract.sign(known.envelope_id, sid, at=when, ip=act.ip, provider_event_id=act.event_id)
                await signing.after_signing(uow, contract, invited, at)
            elif act.kind == "declined":
                contract.decline(known.envelope_id, sid, reason=act.reason, at=when, ip=act.ip,
                                 provider_event_id=act.event_id)
        await commit(uow)  # the receipt is kept even when the act changed nothing (a late or repeated act)
        return contract


def _signer(contract: Contract, act: ProviderAct):
    envelope = contract.envelope
    if envelope is None:
        return None
    if act.signer_index is not None:
        signers = envelope.requested.signers
        return envelope.signers[signers[act.signer_index].signer_id] if act.signer_index < len(signers) else None
    return contract.signer_of_provider(act.email) if act.email else None
