"""REST resources of signature (phase 5): /api/v1/contracts/{id}/signature (send the envelope for
the approved version, read its state and each signer's), .../signature/cancel, and the downloads
of the signed copy and the audit certificate once executed.

RACI phase 5: the contract manager (A) and sales (R) send and cancel; everyone reads."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.errors import NotFound, invalid
from shared.backbone.rest import IfMatch, Instant, answer_created, expected_version, replayed, whole_number, with_version
from shared.events.documents import DocumentRef
from shared.events.signature import Signer, SignatureProviderName, SignerRole
from services.clm.application.signature_providers import provider_named
from services.clm.application import signing
from services.clm.domain import rules
from services.clm.domain.contract import Contract
from services.clm.domain.contract.signature import EMAIL

router = APIRouter(prefix="/contracts", tags=["signature"])
may_send = require_roles(Role.CONTRACT_MANAGER, Role.SALES)


class SignerInput(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254, description="required: where the signing link goes")
    role: SignerRole = "customer"
    routing_order: whole_number(1, 20) = Field(1, description="equal numbers sign in parallel; lower numbers first")


class EnvelopeInput(BaseModel):
    envelope_id: UUID | None = Field(None, description="client-chosen: the same id again answers the envelope sent")
    signers: list[SignerInput] = Field(min_length=1, max_length=20)
    deadline: Instant
    reminder_every_days: whole_number(1, 30) | None = None
    provider: SignatureProviderName = "builtin"
    version_number: whole_number(1, 100000) | None = Field(None, description="must be the approved version")
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class CancelInput(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)
    expected_version: int | None = None


class SignerView(BaseModel):
    signer_id: UUID
    name: str
    email: str
    role: SignerRole
    routing_order: int
    status: Literal["waiting", "invited", "viewed", "signed", "declined"]
    invited_at: dt.datetime | None
    viewed_at: dt.datetime | None
    signed_at: dt.datetime | None
    typed_name: str | None
    declined_at: dt.datetime | None
    decline_reason: str | None
    reminders: int


class SignatureView(BaseModel):
    contract_id: UUID
    envelope_id: UUID
    status: Literal["sent", "completed", "declined", "expired", "canceled"]
    version_number: int
    provider: SignatureProviderName
    provider_envelope_id: str | None
    deadline: dt.datetime
    reminder_every_days: int | None
    sent_by: str
    sent_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str
    signers: list[SignerView]
    signed_document: DocumentRef | None
    audit_certificate: DocumentRef | None
    version: int

    @classmethod
    def of(cls, contract: Contract) -> "SignatureView":
        e, executed = contract.envelope, contract.executed
        done = executed if executed and executed.envelope_id == e.envelope_id else None
        return cls(
            contract_id=contract.contract_uuid, envelope_id=e.envelope_id, status=e.status,
            version_number=e.requested.version_number, provider=e.requested.provider,
            provider_envelope_id=e.requested.provider_envelope_id, deadline=e.requested.deadline,
            reminder_every_days=e.requested.reminder_every_days, sent_by=e.requested.by, sent_at=e.requested.at,
            ended_at=e.ended_at, end_reason=e.end_reason,
            signers=[SignerView(
                **s.signer.model_dump(), status=s.status, invited_at=s.invited_at, viewed_at=s.viewed_at,
                signed_at=s.signed.at if s.signed else None, typed_name=s.signed.typed_name if s.signed else None,
                declined_at=s.declined.at if s.declined else None,
                decline_reason=s.declined.reason if s.declined else None, reminders=s.reminders)
                for s in sorted(e.signers.values(), key=lambda s: s.signer.routing_order)],
            signed_document=done.signed_document if done else None,
            audit_certificate=done.audit_certificate if done else None, version=contract.version)


def _answer(response: Response, contract: Contract) -> SignatureView:
    with_version(response, contract.version)
    return SignatureView.of(contract)


@router.post("/{contract_id}/signature", status_code=status.HTTP_201_CREATED, response_model=SignatureView,
             responses=replayed(SignatureView))
async def send_envelope(contract_id: UUID, body: EnvelopeInput, response: Response,
                        principal: Annotated[Principal, Depends(may_send)],
                        ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> SignatureView:
    """An envelope for the approved version (else 409 signature.version_not_approved) while the
    request awaits signature; the first routing group is invited (built-in: a one-time link mailed)."""
    envelope_id = body.envelope_id or uuid4()
    signers = []
    for i, s in enumerate(body.signers):
        if not EMAIL.match(s.email):
            raise invalid(rules.SIGNATURE_SIGNER_EMAIL, f"signer {i + 1} needs an e-mail address, not {s.email!r}",
                          field=f"signers[{i}].email")
        signers.append(Signer(signer_id=uuid5(envelope_id, f"{i}/{s.email.lower()}"), name=s.name, email=s.email,
                              role=s.role, routing_order=s.routing_order))
    contract, is_new = await signing.send_envelope(
        ctx.uow(principal), contract_id, envelope_id=envelope_id, signers=signers, deadline=body.deadline,
        reminder_every_days=body.reminder_every_days, provider=provider_named(body.provider),
        version_number=body.version_number, by=principal.subject, at=ctx.clock.now(),
        expected_version=expected_version(if_match, body.expected_version))
    answer_created(response, f"/api/v1/contracts/{contract_id}/signature", is_new)
    return _answer(response, contract)


@router.get("/{contract_id}/signature", response_model=SignatureView, dependencies=[Depends(any_role)])
async def get_signature(contract_id: UUID, response: Response,
                        ctx: Annotated[ServiceContext, Depends(context)]) -> SignatureView:
    """The latest envelope: its state and each signer's (invited, viewed, signed, declined, when)."""
    contract = await signing.get_contract(ctx.uow(), contract_id)
    if contract.envelope is None:
        raise NotFound("envelope", f"of contract {contract_id}", field="contract_id")
    return _answer(response, contract)


@router.post("/{contract_id}/signature/cancel", response_model=SignatureView)
async def cancel_envelope(contract_id: UUID, body: CancelInput, response: Response,
                          principal: Annotated[Principal, Depends(may_send)],
                          ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> SignatureView:
    """Voids the envelope still out (SignatureCanceled; at DocuSign / Adobe Sign too); the request
    keeps awaiting signature."""
    contract = await signing.cancel(ctx.uow(principal), contract_id, reason=body.reason, by=principal.subject,
                                    at=ctx.clock.now(), providers=provider_named,
                                    expected_version=expected_version(if_match, body.expected_version))
    return _answer(response, contract)


def _download(ref: DocumentRef, content: bytes) -> Response:
    return Response(content, media_type=ref.media_type, headers={
        "Content-Disposition": f'attachment; filename="{ref.filename}"', "ETag": f'"{ref.sha256}"',
        "X-Document-SHA256": ref.sha256})


BINARY = {200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                "description": "The document; ETag and X-Document-SHA256 are its SHA-256"}}


@router.get("/{contract_id}/signature/signed-copy", response_class=Response, dependencies=[Depends(any_role)],
            responses=BINARY)
async def signed_copy(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    """The executed contract's signed copy (404 before execution)."""
    return _download(*await signing.executed_document(ctx.uow(), contract_id, "signed"))


@router.get("/{contract_id}/signature/audit-certificate", response_class=Response, dependencies=[Depends(any_role)],
            responses=BINARY)
async def audit_certificate(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    """The audit certificate (PDF) listing every signing event (404 before execution)."""
    return _download(*await signing.executed_document(ctx.uow(), contract_id, "audit"))
