"""Signature and execution (phase 5): an envelope for the approved version, its signers in
routing order, built-in signing or a provider's, and execution into the signed copy.
docs/design/approvals_and_signature.md, "Signature"; docs/contracting/signature.md.

Signers with the lowest routing number are invited first; when the last of a group signs, the
next group is invited. A decline ends the envelope and sends the request back to negotiation;
an expired or canceled envelope leaves the request awaiting signature (a new envelope may be sent).

The interface activation reads: `executed` (the ContractExecuted, None before)."""

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from shared.backbone.aggregate import applies
from shared.backbone.errors import ConflictingState, NotFound, invalid
from shared.events.documents import DocumentRef
from shared.events.signature import (
    ContractExecuted, SignatureCanceled, SignatureExpired, SignatureProviderName, SignatureRequested, Signer,
    SignerDeclined, SignerInvited, SignerReminded, SignerSigned, SignerViewed,
)
from services.clm.domain import rules
from services.clm.domain.contract.approval import Approving
from services.clm.domain.contract.intake import RequestState as S

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
SignerActEvent = SignerViewed | SignerSigned | SignerDeclined


@dataclass
class SignerState:
    signer: Signer
    invited_at: dt.datetime | None = None
    viewed_at: dt.datetime | None = None
    signed: SignerSigned | None = None
    declined: SignerDeclined | None = None
    reminders: int = 0

    @property
    def status(self) -> str:
        if self.signed:
            return "signed"
        if self.declined:
            return "declined"
        if self.viewed_at:
            return "viewed"
        return "invited" if self.invited_at else "waiting"

    @property
    def pending(self) -> bool:
        return self.invited_at is not None and not self.signed and not self.declined


@dataclass
class Envelope:
    requested: SignatureRequested
    signers: dict[uuid.UUID, SignerState]
    status: str = "sent"  # sent | completed | declined | expired | canceled
    ended_at: dt.datetime | None = None
    end_reason: str = ""
    events: list = field(default_factory=list)  # every signing event, in order (the audit certificate)

    @property
    def envelope_id(self) -> uuid.UUID:
        return self.requested.envelope_id

    @property
    def is_open(self) -> bool:
        return self.status == "sent"

    @property
    def all_signed(self) -> bool:
        return all(s.signed for s in self.signers.values())

    def signer(self, signer_id: uuid.UUID) -> SignerState:
        if signer_id not in self.signers:
            raise NotFound("signer", signer_id, field="signer_id")
        return self.signers[signer_id]

    def next_group(self) -> list[Signer]:
        """The signers of the lowest routing number not yet signed, when none of them is invited."""
        waiting = [s for s in self.signers.values() if not s.signed]
        if not waiting:
            return []
        lowest = min(s.signer.routing_order for s in waiting)
        group = [s for s in waiting if s.signer.routing_order == lowest]
        return [] if any(s.invited_at for s in group) else [s.signer for s in group]


def check_signers(signers: list[Signer]) -> None:
    if not signers:
        raise invalid(rules.SIGNATURE_SIGNERS_REQUIRED, "an envelope needs at least one signer", field="signers")
    seen: set[str] = set()
    for i, signer in enumerate(signers):
        if not EMAIL.match(signer.email or ""):
            raise invalid(rules.SIGNATURE_SIGNER_EMAIL, f"{signer.email!r} is not an e-mail address",
                          field=f"signers[{i}].email")
        if signer.email.lower() in seen:
            raise invalid(rules.SIGNATURE_SIGNER_DUPLICATE, f"{signer.email} signs once", field=f"signers[{i}].email")
        seen.add(signer.email.lower())


class Signing(Approving):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.envelope: Envelope | None = None  # the latest envelope
        self.executed: ContractExecuted | None = None

    # -- commands ---------------------------------------------------------------------------------

    def request_signature(self, *, envelope_id: uuid.UUID, signers: list[Signer], deadline: dt.datetime,
                          provider: SignatureProviderName, document: DocumentRef, by: str, at: dt.datetime,
                          reminder_every_days: int | None = None, version_number: int | None = None,
                          provider_envelope_id: str | None = None, link_expires_at: dt.datetime | None = None) -> None:
        self.check_can_request_signature(version_number)
        check_signers(signers)
        if deadline <= at:
            raise invalid(rules.SIGNATURE_DEADLINE_PAST, "the deadline lies in the future", field="deadline")
        self.record(SignatureRequested(
            contract_id=self.contract_uuid, envelope_id=envelope_id, version_number=self.approved_version,
            document=document, provider=provider, provider_envelope_id=provider_envelope_id, signers=signers,
            deadline=deadline, reminder_every_days=reminder_every_days, by=by, at=at))
        self._invite_next(at, link_expires_at)

    def check_can_request_signature(self, version_number: int | None = None) -> int:
        """The approved version an envelope would be sent for (before a provider is called)."""
        state = self._require_request()
        if self.approved_version is None or (version_number is not None and version_number != self.approved_version):
            asked = f"version {version_number}" if version_number else "the contract"
            raise ConflictingState(rules.SIGNATURE_VERSION_NOT_APPROVED,
                                   f"{asked} is not approved (approved: {self.approved_version or 'none'})",
                                   field="version_number")
        if state is not S.AWAITING_SIGNATURE:
            raise ConflictingState(rules.SIGNATURE_NOT_AWAITING_SIGNATURE,
                                   f"an envelope is sent while the request awaits signature, not {state}", field="state")
        if self.envelope is not None and self.envelope.is_open:
            raise ConflictingState(rules.SIGNATURE_ENVELOPE_OPEN,
                                   f"envelope {self.envelope.envelope_id} is still out; cancel it first", field="envelope_id")
        return self.approved_version

    def check_can_add_version(self) -> None:
        """A signer must never sign a version that is no longer the one to sign: while an envelope is
        out, it is canceled first (which voids it at the provider too), then the version is added."""
        if self.envelope is not None and self.envelope.is_open:
            raise ConflictingState(rules.SIGNATURE_VERSION_WHILE_OUT,
                                   f"envelope {self.envelope.envelope_id} is out for version "
                                   f"{self.envelope.requested.version_number}; cancel it before adding a version",
                                   field="envelope_id")
        super().check_can_add_version()

    def open_signer(self, envelope_id: uuid.UUID, signer_id: uuid.UUID) -> SignerState:
        """The signer of the open envelope whose turn it is (refusals name why not)."""
        envelope = self._open_envelope(envelope_id)
        state = envelope.signer(signer_id)
        if state.signed or state.declined:
            raise ConflictingState(rules.SIGNATURE_SIGNER_DONE, f"signer {signer_id} has {state.status}", field="signer_id")
        if state.invited_at is None:
            raise ConflictingState(rules.SIGNATURE_SIGNER_NOT_INVITED,
                                   f"signer {signer_id} signs after routing group {state.signer.routing_order - 1}",
                                   field="signer_id")
        return state

    def view(self, envelope_id: uuid.UUID, signer_id: uuid.UUID, *, at: dt.datetime, ip: str | None = None,
             user_agent: str | None = None, provider_event_id: str | None = None) -> None:
        """The first view is recorded; later ones change nothing."""
        state = self.open_signer(envelope_id, signer_id)
        if state.viewed_at is None:
            self.record(SignerViewed(contract_id=self.contract_uuid, envelope_id=envelope_id, signer_id=signer_id,
                                     at=at, ip=ip, user_agent=user_agent, provider_event_id=provider_event_id))

    def sign(self, envelope_id: uuid.UUID, signer_id: uuid.UUID, *, at: dt.datetime, typed_name: str | None = None,
             ip: str | None = None, user_agent: str | None = None, provider_event_id: str | None = None,
             link_expires_at: dt.datetime | None = None) -> list[Signer]:
        """Records the signature; returns the signers invited next (the next routing group, once
        this group is complete). `all_signed` then says whether to execute."""
        self.open_signer(envelope_id, signer_id)
        if provider_event_id is None and not (typed_name or "").strip():
            raise invalid(rules.SIGNATURE_TYPED_NAME_REQUIRED, "type your name to sign", field="typed_name")
        self.record(SignerSigned(contract_id=self.contract_uuid, envelope_id=envelope_id, signer_id=signer_id, at=at,
                                 ip=ip, user_agent=user_agent, provider_event_id=provider_event_id,
                                 typed_name=typed_name.strip() if typed_name else None))
        return self._invite_next(at, link_expires_at)

    def decline(self, envelope_id: uuid.UUID, signer_id: uuid.UUID, *, reason: str, at: dt.datetime,
                ip: str | None = None, user_agent: str | None = None, provider_event_id: str | None = None) -> None:
        state = self.open_signer(envelope_id, signer_id)
        if not reason.strip():
            raise invalid(rules.SIGNATURE_DECLINE_REASON_REQUIRED, "say why you decline", field="reason")
        self.record(SignerDeclined(contract_id=self.contract_uuid, envelope_id=envelope_id, signer_id=signer_id, at=at,
                                   ip=ip, user_agent=user_agent, provider_event_id=provider_event_id,
                                   reason=reason.strip()))
        self._move(S.WORK_IN_PROGRESS, f"signer:{state.signer.email}", at, rules.SIGNATURE_NOT_AWAITING_SIGNATURE,
                   reason=f"declined by {state.signer.name}: {reason.strip()}")

    def remind(self, envelope_id: uuid.UUID, signer_id: uuid.UUID, *, at: dt.datetime,
               link_expires_at: dt.datetime | None = None) -> bool:
        """A pending signer of the open envelope is reminded; anyone else is not (False)."""
        envelope = self.envelope
        if envelope is None or envelope.envelope_id != envelope_id or not envelope.is_open:
            return False
        state = envelope.signers.get(signer_id)
        if state is None or not state.pending:
            return False
        self.record(SignerReminded(contract_id=self.contract_uuid, envelope_id=envelope_id, signer_id=signer_id,
                                   link_expires_at=link_expires_at, at=at))
        return True

    def expire(self, envelope_id: uuid.UUID, *, at: dt.datetime) -> bool:
        """The scheduler's deadline: an envelope still out expires; a completed or ended one stays."""
        envelope = self.envelope
        if envelope is None or envelope.envelope_id != envelope_id or not envelope.is_open:
            return False
        self.record(SignatureExpired(contract_id=self.contract_uuid, envelope_id=envelope_id, at=at))
        return True

    def cancel_signature(self, *, reason: str, by: str, at: dt.datetime) -> None:
        if not reason.strip():
            raise invalid(rules.SIGNATURE_CANCEL_REASON_REQUIRED, "say why the envelope is canceled", field="reason")
        if self.envelope is None or not self.envelope.is_open:
            raise ConflictingState(rules.SIGNATURE_NO_OPEN_ENVELOPE, "no envelope is out", field="envelope_id")
        self.record(SignatureCanceled(contract_id=self.contract_uuid, envelope_id=self.envelope.envelope_id,
                                      reason=reason.strip(), by=by, at=at))

    def cancel(self, *, reason: str, by: str, at: dt.datetime) -> None:
        """Cancelling the request voids an envelope still out, in the same commit."""
        if reason.strip() and self.envelope is not None and self.envelope.is_open:
            self._refuse_if_terminal()
            self.cancel_signature(reason=f"request cancelled: {reason.strip()}", by=by, at=at)
        super().cancel(reason=reason, by=by, at=at)

    def execute(self, *, signed_document: DocumentRef, audit_certificate: DocumentRef, at: dt.datetime) -> None:
        """Every signer signed and both documents are stored: ContractExecuted, the request signed."""
        envelope = self.envelope
        if envelope is None or not envelope.is_open or not envelope.all_signed:
            raise ConflictingState(rules.SIGNATURE_NOT_COMPLETE, "signatures are missing", field="envelope_id")
        self.record(ContractExecuted(
            contract_id=self.contract_uuid, envelope_id=envelope.envelope_id,
            version_number=envelope.requested.version_number, signed_document=signed_document,
            audit_certificate=audit_certificate, start_date=self.terms.start_date, end_date=self.terms.end_date,
            time_zone=self.terms.time_zone, executed_at=at))
        self._move(S.CONTRACT_SIGNED, "signature", at, rules.SIGNATURE_NOT_AWAITING_SIGNATURE)

    def signer_of_provider(self, email: str) -> SignerState | None:
        """A provider names a recipient by e-mail (DocuSign recipientId / Adobe participant)."""
        if self.envelope is None:
            return None
        return next((s for s in self.envelope.signers.values() if s.signer.email.lower() == email.lower()), None)

    def _open_envelope(self, envelope_id: uuid.UUID) -> Envelope:
        envelope = self.envelope
        if envelope is None or envelope.envelope_id != envelope_id:
            raise NotFound("envelope", envelope_id, field="envelope_id")
        if not envelope.is_open:
            raise ConflictingState(rules.SIGNATURE_NO_OPEN_ENVELOPE, f"envelope {envelope_id} is {envelope.status}",
                                   field="envelope_id")
        return envelope

    def _invite_next(self, at: dt.datetime, link_expires_at: dt.datetime | None) -> list[Signer]:
        group = self.envelope.next_group()
        for signer in group:
            self.record(SignerInvited(contract_id=self.contract_uuid, envelope_id=self.envelope.envelope_id,
                                      signer_id=signer.signer_id, routing_order=signer.routing_order,
                                      link_expires_at=link_expires_at, at=at))
        return group

    # -- what the events say -----------------------------------------------------------------------

    @applies
    def _on_signature_requested(self, event: SignatureRequested) -> None:
        self.envelope = Envelope(event, {s.signer_id: SignerState(s) for s in event.signers}, events=[event])

    @applies
    def _on_signer_invited(self, event: SignerInvited) -> None:
        self.envelope.signers[event.signer_id].invited_at = event.at
        self.envelope.events.append(event)

    @applies
    def _on_signer_reminded(self, event: SignerReminded) -> None:
        self.envelope.signers[event.signer_id].reminders += 1
        self.envelope.events.append(event)

    @applies
    def _on_signer_viewed(self, event: SignerViewed) -> None:
        self.envelope.signers[event.signer_id].viewed_at = event.at
        self.envelope.events.append(event)

    @applies
    def _on_signer_signed(self, event: SignerSigned) -> None:
        self.envelope.signers[event.signer_id].signed = event
        self.envelope.events.append(event)

    @applies
    def _on_signer_declined(self, event: SignerDeclined) -> None:
        self.envelope.signers[event.signer_id].declined = event
        self._end("declined", event.at, event.reason, event)

    @applies
    def _on_signature_expired(self, event: SignatureExpired) -> None:
        self._end("expired", event.at, "the deadline passed", event)

    @applies
    def _on_signature_canceled(self, event: SignatureCanceled) -> None:
        self._end("canceled", event.at, event.reason, event)

    @applies
    def _on_contract_executed(self, event: ContractExecuted) -> None:
        self.executed = event
        self._end("completed", event.executed_at, "", event)

    def _end(self, status: str, at: dt.datetime, reason: str, event) -> None:
        self.envelope.status, self.envelope.ended_at, self.envelope.end_reason = status, at, reason
        self.envelope.events.append(event)
