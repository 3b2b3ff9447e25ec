"""Events of signature and execution (phase 5, services/clm), on the contract's stream.

One envelope at a time per contract, for the approved version; signed built-in (one-time links
from clm) or at DocuSign / Adobe Acrobat Sign (their webhooks recorded once each). Execution
stores the signed copy and an audit certificate and publishes ContractExecuted."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event
from shared.events.documents import DocumentRef

SignatureProviderName = Literal["builtin", "docusign", "adobe_sign"]
SignerRole = Literal["customer", "internal"]


class Signer(BaseModel):
    signer_id: UUID
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    role: SignerRole
    routing_order: int = Field(ge=1, le=20, description="signers with the same number sign in parallel")


class _SignatureEvent(Event):
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID
    envelope_id: UUID


class SignatureRequested(_SignatureEvent):
    """An envelope was sent for the approved version: its signers in routing order, the deadline
    and, for built-in signing, how often pending signers are reminded."""

    event_type = "SignatureRequested"
    version_number: int = Field(ge=1)
    document: DocumentRef = Field(description="the version's document, as the signers see it")
    provider: SignatureProviderName
    provider_envelope_id: str | None = Field(None, description="the provider's id of the envelope / agreement")
    signers: list[Signer] = Field(min_length=1)
    deadline: dt.datetime
    reminder_every_days: int | None = Field(None, ge=1, le=30)
    by: str
    at: dt.datetime


class SignerInvited(_SignatureEvent):
    """The signer's turn came (routing order): built-in, a one-time link was issued and mailed."""

    event_type = "SignerInvited"
    signer_id: UUID
    routing_order: int = Field(ge=1)
    link_expires_at: dt.datetime | None = None
    at: dt.datetime


class SignerReminded(_SignatureEvent):
    """A pending signer was reminded (a fresh one-time link; the previous one no longer works)."""

    event_type = "SignerReminded"
    signer_id: UUID
    link_expires_at: dt.datetime | None = None
    at: dt.datetime


class _SignerAct(_SignatureEvent):
    signer_id: UUID
    at: dt.datetime
    ip: str | None = Field(None, max_length=64)
    user_agent: str | None = Field(None, max_length=1000)
    provider_event_id: str | None = Field(None, description="the provider's event id, when a webhook said it")


class SignerViewed(_SignerAct):
    """The signer opened the document (built-in page, or the provider said so)."""

    event_type = "SignerViewed"


class SignerSigned(_SignerAct):
    """The signer consented and signed (built-in: typed name)."""

    event_type = "SignerSigned"
    typed_name: str | None = Field(None, max_length=200)


class SignerDeclined(_SignerAct):
    """The signer declined: the envelope ends and the request goes back to negotiation."""

    event_type = "SignerDeclined"
    reason: str = Field(min_length=1, max_length=4000)


class SignatureExpired(_SignatureEvent):
    """The deadline passed with signatures missing (by the scheduler)."""

    event_type = "SignatureExpired"
    at: dt.datetime


class SignatureCanceled(_SignatureEvent):
    """The envelope was voided (by a person, or because the contract was cancelled)."""

    event_type = "SignatureCanceled"
    reason: str
    by: str
    at: dt.datetime


class ContractExecuted(_SignatureEvent):
    """Every signer signed: the signed copy and its audit certificate are stored. The contract
    becomes Active on `start_date` (the scheduler's start timer, then clm's readiness check)."""

    event_type = "ContractExecuted"
    version_number: int = Field(ge=1)
    signed_document: DocumentRef = Field(description="the signed copy; its sha256 is the executed version's hash")
    audit_certificate: DocumentRef = Field(description="PDF listing every signing event")
    start_date: dt.date
    end_date: dt.date
    time_zone: str
    executed_at: dt.datetime
