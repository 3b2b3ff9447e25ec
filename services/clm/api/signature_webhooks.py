"""Webhooks of the signature providers: /api/v1/signature-webhooks/docusign (Connect, HMAC-signed)
and /api/v1/signature-webhooks/adobe-sign (verification by the X-AdobeSign-ClientId echo, events by
webhookNotificationId). No bearer: the HMAC / the client id is the credential.

A forged, tampered or replayed notification -> 401, nothing changes; an envelope we did not send
-> 404; each provider event takes effect once (provider_receipts)."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from shared.backbone.app import ServiceContext, context
from shared.backbone.openapi import PROBLEM_JSON
from shared.backbone.rest import UNSUPPORTED_MEDIA_TYPE, is_json
from services.clm.application import signature_providers as providers
from services.clm.application.signature_settings import signature_settings

router = APIRouter(prefix="/signature-webhooks", tags=["signature webhooks"])
PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
MAX_BODY = 2 * 1024 * 1024
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}
UNAUTHORIZED = "signature.webhook_unauthorized"
REFUSED = {401: {"description": "Forged, tampered or replayed: nothing changes (signature.webhook_unauthorized)",
                 "content": PROBLEM}}
UNKNOWN = {404: {"description": "The notification names an envelope clm did not send", "content": PROBLEM}}


async def json_only(request: Request) -> None:
    """Before anything else, as rest.json_body does for the routes FastAPI reads: JSON only."""
    content_type = request.headers.get("content-type")
    if not is_json(content_type):
        raise HTTPException(415, detail={"rule": UNSUPPORTED_MEDIA_TYPE,
                                         "message": f"send the notification as application/json, not {content_type}"})


def _refuse(message: str) -> HTTPException:
    return HTTPException(401, detail={"rule": UNAUTHORIZED, "message": message})


async def _json(request: Request) -> tuple[bytes, dict]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(422, detail={"rule": "webhook.too_large", "message": "the notification is too large"})
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise HTTPException(422, detail={"rule": "webhook.body_invalid", "message": "the body is a JSON object"})
    return body, payload


async def _apply(ctx: ServiceContext, provider, act, body: bytes) -> dict:
    try:
        contract = await providers.apply_provider_act(ctx.uow(), provider, act, body, ctx.clock.now())
    except providers.Replayed:
        raise _refuse("this notification was received before")
    return {"accepted": True, "contract_id": str(contract.contract_uuid)}


@router.post("/docusign", openapi_extra=JSON_BODY, responses={**REFUSED, **UNKNOWN})
async def docusign_connect(request: Request, _: Annotated[None, Depends(json_only)],
                           ctx: Annotated[ServiceContext, Depends(context)]) -> dict:
    """DocuSign Connect (JSON): X-DocuSign-Signature-1..N, base64 HMAC-SHA256 of the raw body by
    each key in DOCUSIGN_CONNECT_KEYS, checked in constant time."""
    body = await request.body()
    keys = signature_settings().connect_keys
    if not keys or not providers.docusign_signature_valid(body, dict(request.headers), keys):
        raise _refuse("the X-DocuSign-Signature does not match the body")
    body, payload = await _json(request)
    return await _apply(ctx, "docusign", providers.docusign_act(payload, body), body)


def _adobe_client(request: Request) -> str:
    configured = signature_settings().adobe_sign_client_id
    given = request.headers.get("x-adobesign-clientid", "")
    if not configured or given != configured:
        raise _refuse("X-AdobeSign-ClientId is not this application's")
    return given


@router.get("/adobe-sign", responses=REFUSED)
async def adobe_sign_verification(request: Request) -> JSONResponse:
    """Adobe Sign's verification of the webhook URL: the client id echoed in the header and body."""
    client = _adobe_client(request)
    return JSONResponse({"xAdobeSignClientId": client}, headers={"X-AdobeSign-ClientId": client})


@router.post("/adobe-sign", openapi_extra=JSON_BODY, responses={**REFUSED, **UNKNOWN})
async def adobe_sign_event(request: Request, _: Annotated[None, Depends(json_only)],
                           ctx: Annotated[ServiceContext, Depends(context)]) -> JSONResponse:
    """A notification (the client id echoed, as Adobe requires of every answer)."""
    client = _adobe_client(request)
    body, payload = await _json(request)
    answer = await _apply(ctx, "adobe_sign", providers.adobe_act(payload), body)
    return JSONResponse({**answer, "xAdobeSignClientId": client}, headers={"X-AdobeSign-ClientId": client})
