"""The signature providers behind application/ports.SignatureProvider: built-in (clm's own links and
page), DocuSign eSignature (REST v2.1) and Adobe Acrobat Sign (REST v6), and the reading of their
webhooks (DocuSign Connect JSON, Adobe Sign webhook notifications) into provider acts.

Their HTTP APIs cannot be reached from here: tests/integration/test_signature_providers.py runs
both adapters against a local HTTP server that speaks the documented request/response shapes."""

import base64
import datetime as dt
import hashlib
import hmac
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import httpx

from shared.backbone.outages import DependencyUnavailable
from shared.events.signature import Signer


@asynccontextmanager
async def _calling(provider: str, timeout: float):
    """A client for one provider call; a refusal or an unreachable provider is an outage (503),
    with nothing recorded in clm."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            yield client
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise DependencyUnavailable(provider, repr(exc)[:300]) from exc


@dataclass(frozen=True)
class ProviderAct:
    """One thing a provider's webhook says: `kind` viewed | signed | declined | ignored."""

    event_id: str
    provider_envelope_id: str
    kind: str
    signer_index: int | None = None  # the signer's position in SignatureRequested.signers
    email: str | None = None
    at: dt.datetime | None = None
    reason: str | None = None
    ip: str | None = None


class BuiltinProvider:
    name = "builtin"

    async def create_envelope(self, **_) -> None:
        return None

    async def cancel_envelope(self, provider_envelope_id: str, reason: str) -> None:
        return None


class DocuSign:
    """POST /restapi/v2.1/accounts/{accountId}/envelopes with the document inline (base64) and the
    signers as recipients in routing order; answered 201 with {"envelopeId", "status", ...}."""

    name = "docusign"

    def __init__(self, base_url: str, account_id: str, access_token: str, timeout: float = 30.0):
        self.base_url, self.account_id, self.access_token, self.timeout = base_url.rstrip("/"), account_id, access_token, timeout

    async def create_envelope(self, *, envelope_id: UUID, title: str, document: bytes, filename: str,
                              signers: list[Signer], deadline: dt.datetime, at: dt.datetime) -> str:
        days = max(1, (deadline - at).days)
        body = {
            "emailSubject": f"Please sign {title}"[:100],
            "status": "sent",
            "documents": [{"documentId": "1", "name": filename, "fileExtension": filename.rsplit(".", 1)[-1],
                           "documentBase64": base64.b64encode(document).decode()}],
            "recipients": {"signers": [{"recipientId": str(i + 1), "name": s.name, "email": s.email,
                                        "routingOrder": str(s.routing_order)} for i, s in enumerate(signers)]},
            "customFields": {"textCustomFields": [{"name": "clm_envelope_id", "value": str(envelope_id), "show": "false"}]},
            "notification": {"useAccountDefaults": "false",
                             "expirations": {"expireEnabled": "true", "expireAfter": str(days), "expireWarn": "0"}},
        }
        async with _calling(self.name, self.timeout) as client:
            answer = await client.post(f"{self.base_url}/restapi/v2.1/accounts/{self.account_id}/envelopes", json=body,
                                       headers={"Authorization": f"Bearer {self.access_token}"})
            answer.raise_for_status()
            return answer.json()["envelopeId"]

    async def cancel_envelope(self, provider_envelope_id: str, reason: str) -> None:
        """PUT .../envelopes/{envelopeId} {"status": "voided", "voidedReason"}."""
        async with _calling(self.name, self.timeout) as client:
            answer = await client.put(
                f"{self.base_url}/restapi/v2.1/accounts/{self.account_id}/envelopes/{provider_envelope_id}",
                json={"status": "voided", "voidedReason": reason[:200]},
                headers={"Authorization": f"Bearer {self.access_token}"})
            answer.raise_for_status()


class AdobeSign:
    """POST /api/rest/v6/transientDocuments (multipart File) -> transientDocumentId, then
    POST /api/rest/v6/agreements with the participant sets in order -> 201 {"id"}."""

    name = "adobe_sign"

    def __init__(self, base_url: str, access_token: str, timeout: float = 30.0):
        self.base_url, self.access_token, self.timeout = base_url.rstrip("/"), access_token, timeout

    async def create_envelope(self, *, envelope_id: UUID, title: str, document: bytes, filename: str,
                              signers: list[Signer], deadline: dt.datetime, at: dt.datetime) -> str:
        auth = {"Authorization": f"Bearer {self.access_token}"}
        orders = sorted({s.routing_order for s in signers})
        async with _calling(self.name, self.timeout) as client:
            uploaded = await client.post(f"{self.base_url}/api/rest/v6/transientDocuments", headers=auth,
                                         files={"File": (filename, document, "application/octet-stream")},
                                         data={"File-Name": filename})
            uploaded.raise_for_status()
            body = {
                "fileInfos": [{"transientDocumentId": uploaded.json()["transientDocumentId"]}],
                "name": title, "signatureType": "ESIGN", "state": "IN_PROCESS",
                "externalId": {"id": str(envelope_id)},
                "expirationTime": deadline.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "participantSetsInfo": [
                    {"order": orders.index(s.routing_order) + 1, "role": "SIGNER",
                     "memberInfos": [{"email": s.email, "name": s.name}]} for s in signers],
            }
            created = await client.post(f"{self.base_url}/api/rest/v6/agreements", headers=auth, json=body)
            created.raise_for_status()
            return created.json()["id"]

    async def cancel_envelope(self, provider_envelope_id: str, reason: str) -> None:
        """PUT /api/rest/v6/agreements/{id}/state {"state": "CANCELLED", "agreementCancellationInfo"}."""
        async with _calling(self.name, self.timeout) as client:
            answer = await client.put(
                f"{self.base_url}/api/rest/v6/agreements/{provider_envelope_id}/state",
                json={"state": "CANCELLED", "agreementCancellationInfo": {"comment": reason[:1000], "notifyOthers": True}},
                headers={"Authorization": f"Bearer {self.access_token}"})
            answer.raise_for_status()


# -- webhooks ---------------------------------------------------------------------------------------


def docusign_signature_valid(body: bytes, headers: dict[str, str], keys: list[bytes]) -> bool:
    """DocuSign Connect HMAC: base64(HMAC-SHA256(key, raw body)) in X-DocuSign-Signature-1..N (one
    per active key during rotation); valid when any header matches any configured key. Compared in
    constant time (hmac.compare_digest), every pair compared."""
    given = [v.encode() for k, v in headers.items() if k.lower().startswith("x-docusign-signature-")]
    expected = [base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()) for key in keys]
    found = False
    for g in given:
        for e in expected:
            found |= hmac.compare_digest(g, e)
    return found


DOCUSIGN_KINDS = {"recipient-delivered": "viewed", "recipient-completed": "signed", "recipient-declined": "declined"}


def _instant(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def docusign_act(payload: dict, body: bytes) -> ProviderAct:
    """A Connect (JSON, SIM) notification: {"event", "generatedDateTime", "data": {"envelopeId",
    "recipientId", "envelopeSummary": {...}}}. Its id: the SHA-256 of the body (Connect has no
    event id; a retry sends the same body)."""
    data = payload.get("data") or {}
    recipient = str(data.get("recipientId") or "")
    reason = None
    summary = (data.get("envelopeSummary") or {}).get("recipients", {}).get("signers", [])
    for signer in summary if isinstance(summary, list) else []:
        if str(signer.get("recipientId")) == recipient:
            reason = signer.get("declinedReason")
    return ProviderAct(
        event_id=hashlib.sha256(body).hexdigest(), provider_envelope_id=str(data.get("envelopeId") or ""),
        kind=DOCUSIGN_KINDS.get(str(payload.get("event")), "ignored"),
        signer_index=int(recipient) - 1 if recipient.isdigit() and int(recipient) >= 1 else None,
        at=_instant(payload.get("generatedDateTime")), reason=reason or "declined at DocuSign")


ADOBE_KINDS = {"AGREEMENT_EMAIL_VIEWED": "viewed", "AGREEMENT_ACTION_COMPLETED": "signed", "AGREEMENT_REJECTED": "declined"}


def adobe_act(payload: dict) -> ProviderAct:
    """A webhook notification: {"webhookNotificationId", "event", "eventDate", "actingUserEmail",
    "participantUserEmail", "actingUserIpAddress", "agreement": {"id", ...}, "comment"}."""
    agreement = payload.get("agreement") or {}
    return ProviderAct(
        event_id=str(payload.get("webhookNotificationId") or ""), provider_envelope_id=str(agreement.get("id") or ""),
        kind=ADOBE_KINDS.get(str(payload.get("event")), "ignored"),
        email=payload.get("participantUserEmail") or payload.get("actingUserEmail"),
        at=_instant(payload.get("eventDate")), reason=payload.get("comment") or "declined at Adobe Acrobat Sign",
        ip=payload.get("actingUserIpAddress"))
