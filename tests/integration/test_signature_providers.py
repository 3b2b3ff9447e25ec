"""DocuSign and Adobe Acrobat Sign behind the SignatureProvider port, on real PostgreSQL and Kafka:
their HTTP APIs cannot be reached from here, so the adapters talk to a local HTTP server speaking
the documented shapes (tests/fake_signature_providers.py). Webhooks: DocuSign Connect HMAC
(forged, tampered, replayed -> 401 and nothing changes; two keys during rotation), Adobe's
client-id verification and notifications once by webhookNotificationId; an unknown envelope 404."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid

import pytest
import pytest_asyncio

from tests.conftest import bearer
from tests.fake_signature_providers import ACCOUNT, TOKEN, FakeProviders
from tests.integration.test_signature import events_of, send
from tests.signing_flow import CM, approved_contract, signers

pytestmark = pytest.mark.integration
READER = bearer("legal_counsel")
OLD_KEY, NEW_KEY = "connect-key-2026", "connect-key-2027"
CLIENT_ID = "CBJCHBCAABAAclmtestclient"


@pytest.fixture(scope="module")
def providers():
    fake = FakeProviders().start()
    yield fake
    fake.stop()


@pytest_asyncio.fixture(scope="module")
async def clm(service_env, smtp_server, providers):
    from tests.conftest import running_service

    env = service_env("clm", SMTP_HOST=smtp_server.host, SMTP_PORT=str(smtp_server.port),
                      DOCUSIGN_BASE_URL=providers.url, DOCUSIGN_ACCOUNT_ID=ACCOUNT, DOCUSIGN_ACCESS_TOKEN=TOKEN,
                      DOCUSIGN_CONNECT_KEYS=f"{OLD_KEY},{NEW_KEY}", ADOBE_SIGN_BASE_URL=providers.url,
                      ADOBE_SIGN_ACCESS_TOKEN=TOKEN, ADOBE_SIGN_CLIENT_ID=CLIENT_ID)
    async with running_service("clm", env) as client:
        assert (await client.post("/api/v1/library/starter", headers=CM)).status_code == 200
        yield client


def connect(event: str, envelope_id: str, recipient: str, **extra) -> bytes:
    return json.dumps({"event": event, "apiVersion": "v2.1", "generatedDateTime": dt.datetime.now(dt.UTC).isoformat(),
                       "data": {"accountId": ACCOUNT, "envelopeId": envelope_id, "recipientId": recipient, **extra}}).encode()


def hmac_of(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


async def deliver(clm, body: bytes, *signatures: str):
    headers = {"Content-Type": "application/json",
               **{f"X-DocuSign-Signature-{i}": s for i, s in enumerate(signatures, start=1)}}
    return await clm.post("/api/v1/signature-webhooks/docusign", content=body, headers=headers)


async def signature(clm, contract_id: str) -> dict:
    return (await clm.get(f"/api/v1/contracts/{contract_id}/signature", headers=READER)).json()


async def test_docusign_envelope_and_connect_webhooks(clm, providers):
    contract_id = await approved_contract(clm)
    ann, bob = signers("Ann", "Bob")
    sent = await send(clm, contract_id, [ann, bob], provider="docusign")
    assert sent.status_code == 201, sent.text
    created = providers.requests[-1]
    provider_id = sent.json()["provider_envelope_id"]
    assert created["envelopeId"] == provider_id
    assert [(s["email"], s["routingOrder"], s["recipientId"]) for s in created["body"]["recipients"]["signers"]] == [
        (ann["email"], "1", "1"), (bob["email"], "2", "2")]
    version = await clm.get(f"/api/v1/contracts/{contract_id}/versions/1/document", headers=READER)
    assert base64.b64decode(created["body"]["documents"][0]["documentBase64"]) == version.content

    first = connect("recipient-completed", provider_id, "1")
    before = await events_of(clm, contract_id)
    forged = await deliver(clm, first, hmac_of("someone-elses-key", first))
    tampered = await deliver(clm, first.replace(b'"1"', b'"2"'), hmac_of(NEW_KEY, first))
    unsigned = await deliver(clm, first)
    assert (forged.status_code, tampered.status_code, unsigned.status_code) == (401, 401, 401)
    assert await events_of(clm, contract_id) == before

    accepted = await deliver(clm, first, hmac_of(NEW_KEY, first))
    assert accepted.status_code == 200, accepted.text
    assert [s["status"] for s in (await signature(clm, contract_id))["signers"]] == ["signed", "invited"]
    after = await events_of(clm, contract_id)
    assert (await deliver(clm, first, hmac_of(NEW_KEY, first))).status_code == 401  # replayed
    assert await events_of(clm, contract_id) == after

    # During rotation Connect signs with both keys; a header with the old key alone is accepted too.
    last = connect("recipient-completed", provider_id, "2")
    assert (await deliver(clm, last, hmac_of("retired-key", last), hmac_of(OLD_KEY, last))).status_code == 200
    done = await signature(clm, contract_id)
    assert done["status"] == "completed" and done["signed_document"]["sha256"]

    unknown = connect("recipient-completed", str(uuid.uuid4()), "1")
    assert (await deliver(clm, unknown, hmac_of(NEW_KEY, unknown))).status_code == 404


async def test_adobe_sign_agreement_verification_and_notifications(clm, providers):
    verified = await clm.get("/api/v1/signature-webhooks/adobe-sign", headers={"X-AdobeSign-ClientId": CLIENT_ID})
    assert verified.status_code == 200 and verified.headers["X-AdobeSign-ClientId"] == CLIENT_ID
    assert verified.json() == {"xAdobeSignClientId": CLIENT_ID}
    stranger = await clm.get("/api/v1/signature-webhooks/adobe-sign", headers={"X-AdobeSign-ClientId": "CBJCHBother"})
    assert stranger.status_code == 401 and "X-AdobeSign-ClientId" not in stranger.headers

    contract_id = await approved_contract(clm)
    ann, bob = signers("Ann", "Bob", orders=(1, 1))
    sent = await send(clm, contract_id, [ann, bob], provider="adobe_sign")
    assert sent.status_code == 201, sent.text
    created = providers.requests[-1]
    assert created["id"] == sent.json()["provider_envelope_id"]
    assert [(p["order"], p["memberInfos"][0]["email"]) for p in created["body"]["participantSetsInfo"]] == [
        (1, ann["email"]), (1, bob["email"])]

    async def notify(event: str, who: str, notification_id: str, client: str = CLIENT_ID, **extra):
        body = {"webhookId": "w1", "webhookNotificationId": notification_id, "event": event,
                "eventDate": dt.datetime.now(dt.UTC).isoformat(), "participantUserEmail": who,
                "actingUserIpAddress": "192.0.2.7", "agreement": {"id": created["id"], "status": "OUT_FOR_SIGNATURE"},
                **extra}
        return await clm.post("/api/v1/signature-webhooks/adobe-sign", json=body, headers={"X-AdobeSign-ClientId": client})

    assert (await notify("AGREEMENT_ACTION_COMPLETED", ann["email"], "n-1", client="CBJCHBother")).status_code == 401
    signed = await notify("AGREEMENT_ACTION_COMPLETED", ann["email"], "n-1")
    assert signed.status_code == 200 and signed.headers["X-AdobeSign-ClientId"] == CLIENT_ID
    assert (await notify("AGREEMENT_ACTION_COMPLETED", ann["email"], "n-1")).status_code == 401  # replayed
    rejected = await notify("AGREEMENT_REJECTED", bob["email"], "n-2", comment="payment terms")
    assert rejected.status_code == 200
    state = await signature(clm, contract_id)
    assert [s["status"] for s in state["signers"]] == ["signed", "declined"] and state["status"] == "declined"
    assert state["signers"][1]["decline_reason"] == "payment terms"
    request = (await clm.get(f"/api/v1/contract-requests/{contract_id}", headers=READER)).json()
    assert request["state"] == "work_in_progress"


async def test_canceling_a_provider_envelope_voids_it_there(clm, providers):
    contract_id = await approved_contract(clm)
    (ann,) = signers("Ann")
    docusign = (await send(clm, contract_id, [ann], provider="docusign")).json()["provider_envelope_id"]
    canceled = await clm.post(f"/api/v1/contracts/{contract_id}/signature/cancel", headers=CM,
                              json={"reason": "wrong price list"})
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert providers.requests[-1] == {"provider": "docusign", "voided": docusign,
                                      "body": {"status": "voided", "voidedReason": "wrong price list"}}

    adobe = (await send(clm, contract_id, [ann], provider="adobe_sign")).json()["provider_envelope_id"]
    assert (await clm.post(f"/api/v1/contracts/{contract_id}/signature/cancel", headers=CM,
                           json={"reason": "superseded"})).status_code == 200
    assert providers.requests[-1]["cancelled"] == adobe


async def test_a_provider_refusing_the_envelope_is_503_and_nothing_is_recorded(clm, providers, monkeypatch):
    from services.clm.application.signature_settings import signature_settings

    contract_id = await approved_contract(clm)
    before = await events_of(clm, contract_id)
    monkeypatch.setattr(signature_settings(), "docusign_access_token", None)  # DocuSign answers 401
    refused = await send(clm, contract_id, signers("Ann"), provider="docusign")
    assert refused.status_code == 503 and refused.json()["dependency"] == "docusign", refused.text
    assert await events_of(clm, contract_id) == before
