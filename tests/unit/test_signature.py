"""Signature rules on the Contract aggregate alone (domain/contract/signature.py): an envelope for
the approved version only, signers validated, routing order (sequential and parallel groups),
signing, declining, reminders, expiry, cancellation and execution."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import DomainError
from shared.events.contracts import ContractRequestStateChanged
from shared.events.documents import DocumentRef
from shared.events.negotiation import NegotiatedTerms
from shared.events.signature import (
    ContractExecuted, SignatureCanceled, SignatureExpired, SignatureRequested, SignerDeclined, SignerInvited,
    SignerReminded, SignerSigned, SignerViewed,
)
from services.clm.domain import rules
from services.clm.domain.contract.intake import RequestState
from tests.signature_story import AT, approve, awaiting_signature, signer
from tests.unit.test_drafting_and_negotiation import document, drafted

ENVELOPE = uuid.UUID("5b0c9a52-6f7e-4d38-9a77-1f2e3d4c5b6a")
DEADLINE = AT + dt.timedelta(days=14)
ANN, BOB, CLARA = signer("Ann Customer", 1), signer("Bob Vendor", 2, "internal"), signer("Clara Customer", 2)


def send(contract, *signers, **kw):
    contract.request_signature(envelope_id=ENVELOPE, signers=list(signers), deadline=DEADLINE, provider="builtin",
                               document=document(1), by="cm-carla", at=AT, reminder_every_days=3, **kw)
    events = contract.pending_events
    contract.mark_persisted()
    return events


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value


def done(contract):
    events = contract.pending_events
    contract.mark_persisted()
    return events


def test_an_envelope_invites_the_first_routing_group_only():
    contract = awaiting_signature()
    requested, invited = send(contract, ANN, BOB)
    assert isinstance(requested, SignatureRequested) and requested.version_number == 1
    assert isinstance(invited, SignerInvited) and invited.signer_id == ANN.signer_id
    assert contract.envelope.signers[BOB.signer_id].status == "waiting"


def test_signers_with_the_same_number_are_invited_together_and_the_next_group_after_the_last_of_them():
    contract = awaiting_signature()
    first = signer("Dan Internal", 1, "internal")
    events = send(contract, ANN, first, BOB)
    assert [e.signer_id for e in events if isinstance(e, SignerInvited)] == [ANN.signer_id, first.signer_id]
    contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="Ann Customer")
    assert [type(e) for e in done(contract)] == [SignerSigned]  # Dan still has to sign
    contract.sign(ENVELOPE, first.signer_id, at=AT, typed_name="Dan Internal")
    signed, invited = done(contract)
    assert isinstance(invited, SignerInvited) and invited.signer_id == BOB.signer_id and invited.routing_order == 2


def test_a_signer_signs_in_turn_only():
    contract = awaiting_signature()
    send(contract, ANN, BOB)
    assert refusal(lambda: contract.sign(ENVELOPE, BOB.signer_id, at=AT, typed_name="Bob")).rule == \
        rules.SIGNATURE_SIGNER_NOT_INVITED
    contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="Ann")
    done(contract)
    assert refusal(lambda: contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="Ann")).rule == \
        rules.SIGNATURE_SIGNER_DONE


def test_an_envelope_needs_the_approved_version_and_the_request_awaiting_signature():
    contract = drafted()
    assert refusal(lambda: send(contract, ANN)).rule == rules.SIGNATURE_VERSION_NOT_APPROVED
    approve(contract)
    contract.mark_persisted()
    refused = refusal(lambda: send(contract, ANN, version_number=2))
    assert refused.rule == rules.SIGNATURE_VERSION_NOT_APPROVED and refused.kind == "conflict"


def test_a_signer_without_an_email_is_refused_naming_the_signer():
    contract = awaiting_signature()
    nobody = signer("No Mail", 1).model_copy(update={"email": "not-a-mail"})
    refused = refusal(lambda: send(contract, ANN, nobody))
    assert (refused.rule, refused.field, refused.kind) == (rules.SIGNATURE_SIGNER_EMAIL, "signers[1].email", "invalid")
    assert contract.envelope is None


def test_one_envelope_at_a_time_and_a_deadline_in_the_future():
    contract = awaiting_signature()
    refused = refusal(lambda: contract.request_signature(
        envelope_id=ENVELOPE, signers=[ANN], deadline=AT, provider="builtin", document=document(1), by="cm", at=AT))
    assert refused.rule == rules.SIGNATURE_DEADLINE_PAST
    send(contract, ANN)
    assert refusal(lambda: send(contract, ANN)).rule == rules.SIGNATURE_ENVELOPE_OPEN


def test_the_first_view_is_recorded_once():
    contract = awaiting_signature()
    send(contract, ANN)
    contract.view(ENVELOPE, ANN.signer_id, at=AT, ip="203.0.113.9", user_agent="Firefox")
    contract.view(ENVELOPE, ANN.signer_id, at=AT, ip="203.0.113.9", user_agent="Firefox")
    (viewed,) = done(contract)
    assert isinstance(viewed, SignerViewed) and viewed.ip == "203.0.113.9"


def test_signing_needs_a_typed_name():
    contract = awaiting_signature()
    send(contract, ANN)
    assert refusal(lambda: contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="  ")).rule == \
        rules.SIGNATURE_TYPED_NAME_REQUIRED


def test_a_decline_ends_the_envelope_and_returns_the_request_to_negotiation():
    contract = awaiting_signature()
    send(contract, ANN, BOB)
    contract.decline(ENVELOPE, ANN.signer_id, reason="liability cap too low", at=AT, ip="198.51.100.1")
    declined, moved = done(contract)
    assert isinstance(declined, SignerDeclined) and declined.reason == "liability cap too low"
    assert isinstance(moved, ContractRequestStateChanged) and moved.to_state == "work_in_progress"
    assert "liability cap too low" in moved.reason
    assert contract.envelope.status == "declined"
    assert refusal(lambda: contract.sign(ENVELOPE, BOB.signer_id, at=AT, typed_name="Bob")).rule == \
        rules.SIGNATURE_NO_OPEN_ENVELOPE


def test_reminders_reach_pending_signers_of_the_open_envelope_only():
    contract = awaiting_signature()
    send(contract, ANN, BOB)
    assert contract.remind(ENVELOPE, BOB.signer_id, at=AT) is False  # not invited yet
    assert contract.remind(ENVELOPE, ANN.signer_id, at=AT) is True
    assert [type(e) for e in done(contract)] == [SignerReminded]
    contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="Ann")
    done(contract)
    assert contract.remind(ENVELOPE, ANN.signer_id, at=AT) is False
    assert contract.remind(uuid.uuid4(), BOB.signer_id, at=AT) is False


def test_the_deadline_expires_an_envelope_still_out_and_nothing_else():
    contract = awaiting_signature()
    send(contract, ANN)
    assert contract.expire(uuid.uuid4(), at=DEADLINE) is False
    assert contract.expire(ENVELOPE, at=DEADLINE) is True
    assert [type(e) for e in done(contract)] == [SignatureExpired]
    assert contract.expire(ENVELOPE, at=DEADLINE) is False
    assert contract.request_state is RequestState.AWAITING_SIGNATURE  # a new envelope may be sent
    send(contract, ANN)


def test_cancelling_the_envelope_or_the_request():
    contract = awaiting_signature()
    assert refusal(lambda: contract.cancel_signature(reason="x", by="cm", at=AT)).rule == rules.SIGNATURE_NO_OPEN_ENVELOPE
    send(contract, ANN)
    contract.cancel(reason="customer walked away", by="cm-carla", at=AT)
    canceled, moved = done(contract)
    assert isinstance(canceled, SignatureCanceled) and "customer walked away" in canceled.reason
    assert moved.to_state == "cancelled"


def test_execution_when_every_signer_signed():
    contract = awaiting_signature()
    send(contract, ANN, BOB)
    signed_copy = DocumentRef(document_id=uuid.uuid4(), sha256="a" * 64, size=10, media_type="application/pdf",
                              filename="signed.docx")
    assert refusal(lambda: contract.execute(signed_document=signed_copy, audit_certificate=signed_copy, at=AT)).rule == \
        rules.SIGNATURE_NOT_COMPLETE
    contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="Ann")
    contract.sign(ENVELOPE, BOB.signer_id, at=AT, typed_name="Bob")
    assert contract.envelope.all_signed
    contract.execute(signed_document=signed_copy, audit_certificate=signed_copy, at=AT)
    *_, executed, moved = done(contract)
    assert isinstance(executed, ContractExecuted)
    assert (executed.start_date, executed.end_date, executed.time_zone) == (
        contract.terms.start_date, contract.terms.end_date, contract.terms.time_zone)
    assert executed.signed_document.sha256 == "a" * 64 and moved.to_state == "contract_signed"
    assert contract.envelope.status == "completed" and contract.executed is executed


def test_a_parallel_group_is_invited_together_after_the_first():
    contract = awaiting_signature()
    send(contract, ANN, CLARA, BOB)
    contract.sign(ENVELOPE, ANN.signer_id, at=AT, typed_name="Ann")
    invited = [e.signer_id for e in done(contract) if isinstance(e, SignerInvited)]
    assert invited == [CLARA.signer_id, BOB.signer_id]
    assert {s: v.status for s, v in contract.envelope.signers.items()} == {
        ANN.signer_id: "signed", CLARA.signer_id: "invited", BOB.signer_id: "invited"}


def test_no_new_version_while_an_envelope_is_out_and_after_canceling_it_the_approvals_are_invalidated():
    contract = awaiting_signature()
    send(contract, ANN)
    add = lambda: contract.add_version(origin="internal_edit", author="counsel-lena", at=AT, document=document(2),  # noqa: E731
                                       clauses=[], terms=NegotiatedTerms())
    refused = refusal(add)
    assert refused.rule == rules.SIGNATURE_VERSION_WHILE_OUT and contract.pending_events == []
    contract.cancel_signature(reason="terms changed", by="cm-carla", at=AT)
    done(contract)
    add()
    assert contract.approved_version is None and contract.request_state is RequestState.WORK_IN_PROGRESS
