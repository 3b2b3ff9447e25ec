"""Reading provider webhooks (adapters/signature/providers.py): the DocuSign Connect HMAC check
(forged, tampered, several keys during rotation) and what a Connect or Adobe Sign notification says."""

import base64
import hashlib
import hmac
import json

from services.clm.adapters.signature.providers import adobe_act, docusign_act, docusign_signature_valid

BODY = json.dumps({"event": "recipient-completed", "data": {"envelopeId": "e-1", "recipientId": "2"}}).encode()


def signed(key: bytes, body: bytes = BODY) -> str:
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def test_a_connect_signature_by_a_configured_key_is_valid_in_any_header():
    assert docusign_signature_valid(BODY, {"X-DocuSign-Signature-1": signed(b"new")}, [b"old", b"new"])
    assert docusign_signature_valid(BODY, {"x-docusign-signature-1": "junk", "x-docusign-signature-2": signed(b"old")},
                                    [b"old", b"new"])


def test_forged_tampered_and_unsigned_notifications_are_not():
    assert not docusign_signature_valid(BODY, {"X-DocuSign-Signature-1": signed(b"theirs")}, [b"old", b"new"])
    assert not docusign_signature_valid(BODY + b" ", {"X-DocuSign-Signature-1": signed(b"new")}, [b"new"])
    assert not docusign_signature_valid(BODY, {}, [b"new"])
    assert not docusign_signature_valid(BODY, {"X-DocuSign-Signature-1": signed(b"new")}, [])


def test_what_a_connect_notification_says():
    act = docusign_act(json.loads(BODY), BODY)
    assert (act.kind, act.provider_envelope_id, act.signer_index) == ("signed", "e-1", 1)
    assert act.event_id == hashlib.sha256(BODY).hexdigest()  # a redelivery is the same body
    assert docusign_act({"event": "envelope-sent", "data": {"envelopeId": "e-1"}}, b"x").kind == "ignored"


def test_what_an_adobe_notification_says():
    act = adobe_act({"webhookNotificationId": "n-9", "event": "AGREEMENT_REJECTED", "participantUserEmail": "a@b.example",
                     "agreement": {"id": "CBJ1"}, "comment": "no"})
    assert (act.event_id, act.kind, act.email, act.provider_envelope_id, act.reason) == (
        "n-9", "declined", "a@b.example", "CBJ1", "no")
