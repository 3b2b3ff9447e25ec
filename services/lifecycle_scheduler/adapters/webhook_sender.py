"""Signed webhooks (httpx): a JSON POST per delivery with `X-CLM-Delivery-Id` and
`X-CLM-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` over the exact bytes sent.
Any answer but 2xx is a failure (retried with backoff)."""

import json
import time

import httpx

from services.lifecycle_scheduler.domain.notifications import signature


def body_of(delivery) -> bytes:
    return json.dumps({
        "delivery_id": str(delivery.delivery_id), "occurrence_key": delivery.occurrence_key,
        "series_key": delivery.series_key, "recipient": delivery.recipient, "subject": delivery.subject,
        "body": delivery.body, "data": delivery.data,
    }, separators=(",", ":"), sort_keys=True).encode()


async def post_webhook(client: httpx.AsyncClient, delivery, secret: str | None) -> None:
    """Signed with the wall clock's time (not a moved service clock): receivers check it against theirs."""
    if not secret:
        raise ValueError(f"no webhook secret for {delivery.recipient}: subscribe with webhook_secret")
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", "X-CLM-Delivery-Id": str(delivery.delivery_id),
               "X-CLM-Signature": signature(secret, int(time.time()), body)}
    response = await client.post(delivery.address, content=body, headers=headers)
    if not response.is_success:
        raise RuntimeError(f"the receiver answered {response.status_code}: {response.text[:200]}")
