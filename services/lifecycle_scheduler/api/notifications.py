"""REST resources of the notification channel: /api/v1/notification-subscriptions/{recipient}
(where a user id or role:<name> is reached; secrets are never returned) and
/api/v1/notification-deliveries (every delivery, sent, pending or failed; retry a failed one) and
/api/v1/notification-series/{key} (a series' occurrences so far, its next repeat, whether it stopped)."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Cursor, Limit, Page, page_of
from services.lifecycle_scheduler.application import notifying

router = APIRouter(tags=["notifications"])

may_watch_deliveries = require_roles(Role.SRE, Role.ASSET_MANAGER, Role.CONTRACT_MANAGER)
RECIPIENT_PATTERN = r"^(role:)?[A-Za-z0-9._@+|:-]{1,320}$"
Recipient = Annotated[str, Path(pattern=RECIPIENT_PATTERN, description="a user id or role:<name>")]
WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(allowed_schemes=["http", "https"], max_length=2000)]
DeliveryState = Literal["pending", "sent", "failed", "canceled"]


class SubscriptionBody(BaseModel):
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="where mails to this recipient go")
    webhook_url: WebhookUrl | None = Field(default=None, description="http(s) URL that receives a signed JSON POST")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200,
                                       description="the HMAC key of X-CLM-Signature; write-only, required with "
                                                   "webhook_url (422 notification.webhook_secret_required)")


class SubscriptionView(BaseModel):
    recipient: str
    email: str | None
    webhook_url: str | None
    has_webhook_secret: bool
    updated_at: dt.datetime

    @classmethod
    def of(cls, row) -> "SubscriptionView":
        return cls(recipient=row.recipient, email=row.email, webhook_url=row.webhook_url,
                   has_webhook_secret=bool(row.webhook_secret), updated_at=row.updated_at)


def _may_manage(principal: Principal, recipient: str) -> None:
    """Anyone subscribes themselves; an SRE or asset manager any user or role."""
    if principal.subject != recipient and not principal.roles & {Role.SRE, Role.ASSET_MANAGER}:
        raise HTTPException(403, detail={"rule": "notification.subscription_not_own",
                                         "message": "only your own subscription, unless you are sre or asset_manager"})


@router.put("/notification-subscriptions/{recipient}", response_model=SubscriptionView)
async def put_subscription(recipient: Recipient, body: SubscriptionBody,
                           principal: Annotated[Principal, Depends(any_role)],
                           ctx: Annotated[ServiceContext, Depends(context)]) -> SubscriptionView:
    """Replaces where the recipient is reached (fields left out are cleared)."""
    _may_manage(principal, recipient)
    row = await notifying.put_subscription(ctx.uow(principal), recipient, body.email,
                                           str(body.webhook_url) if body.webhook_url else None, body.webhook_secret,
                                           ctx.clock.now())
    return SubscriptionView.of(row)


@router.get("/notification-subscriptions/{recipient}", response_model=SubscriptionView)
async def get_subscription(recipient: Recipient, principal: Annotated[Principal, Depends(any_role)],
                           ctx: Annotated[ServiceContext, Depends(context)]) -> SubscriptionView:
    _may_manage(principal, recipient)
    return SubscriptionView.of(await notifying.get_subscription(ctx.uow(principal), recipient))


class DeliveryView(BaseModel):
    delivery_id: UUID
    occurrence_key: str
    series_key: str
    recipient: str
    channel: Literal["email", "webhook", "none"]
    address: str
    subject: str
    state: DeliveryState
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, row) -> "DeliveryView":
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


@router.get("/notification-deliveries", response_model=Page[DeliveryView], dependencies=[Depends(may_watch_deliveries)])
async def list_deliveries(
    ctx: Annotated[ServiceContext, Depends(context)],
    state: Annotated[DeliveryState | None, Query()] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    series_key: Annotated[str | None, Query(max_length=400, description="e.g. renewal_task:<task id>")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict:
    rows = await notifying.list_deliveries(ctx.uow(), state=state, recipient=recipient, series_key=series_key,
                                           after=cursor, limit=limit)
    return page_of([DeliveryView.of(r) for r in rows], limit, key=lambda d: d.delivery_id)


class SeriesView(BaseModel):
    series_key: str
    subject: str
    recipients: list[str]
    escalate_to: list[str]
    repeat_days: int | None
    escalate_after: int | None
    occurrences: int = Field(description="occurrences so far, repeats included")
    next_at: dt.datetime | None = Field(description="when the next repeat falls due; none once stopped or not repeating")
    stopped_at: dt.datetime | None = Field(description="acknowledged, completed or ended: nothing more is sent")


@router.get("/notification-series/{series_key:path}", response_model=SeriesView,
            dependencies=[Depends(may_watch_deliveries)], responses={404: {"description": "no such series"}})
async def get_series(series_key: Annotated[str, Path(max_length=400, description="e.g. contract_reminder:<id>/1/cancel_by")],
                     ctx: Annotated[ServiceContext, Depends(context)]) -> SeriesView:
    row = await notifying.get_series(ctx.uow(), series_key)
    return SeriesView(**{name: getattr(row, name) for name in SeriesView.model_fields})


@router.post("/notification-deliveries/{delivery_id}/retry", response_model=DeliveryView,
             responses={409: {"description": "sent already, or no address to send to"}})
async def retry_delivery(delivery_id: UUID, principal: Annotated[Principal, Depends(may_watch_deliveries)],
                         ctx: Annotated[ServiceContext, Depends(context)]) -> DeliveryView:
    """A failed delivery is due again now, with a fresh count of attempts."""
    return DeliveryView.of(await notifying.retry_delivery(ctx.uow(principal), delivery_id, ctx.clock.now()))
