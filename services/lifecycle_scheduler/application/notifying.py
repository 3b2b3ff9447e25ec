"""Use cases of the notification channel: take a request (an occurrence of a series), repeat open
series, stop one, send what is due, retry a failed delivery, manage subscriptions.

Taking a request writes its delivery rows in the caller's transaction (a consumer's: the inbox
row commits with them), before anything is sent; the sender claims due rows (FOR UPDATE SKIP
LOCKED: another replica skips them), sends, and marks each sent, or schedules its next attempt
with exponential backoff, or after NOTIFY_MAX_ATTEMPTS marks it failed, kept and visible.
A crash between sending and committing sends that delivery again (at least once; the mail's
Message-ID and the webhook's X-CLM-Delivery-Id let receivers drop the repeat)."""

import asyncio
import datetime as dt
from functools import cache
from uuid import UUID

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.app import ServiceContext
from shared.backbone.errors import ConflictingState, NotFound, invalid
from shared.backbone.logging import get_logger
from shared.backbone.mail import SmtpSettings
from shared.backbone.unit_of_work import UnitOfWork
from services.lifecycle_scheduler.adapters import deliveries as store
from services.lifecycle_scheduler.adapters.smtp_sender import send_mail
from services.lifecycle_scheduler.adapters.webhook_sender import post_webhook
from services.lifecycle_scheduler.domain.notifications import NotificationRequest, recipients_of, retry_delay, targets

log = get_logger(__name__)
ACTOR = "lifecycle_scheduler"


class NotificationSettings(SmtpSettings, BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    notify_repeat_days: int = 7
    notify_escalate_after: int | None = 3  # unanswered occurrences; unset (empty) never escalates
    notify_escalate_to: str = "role:asset_manager"
    notify_max_attempts: int = 5
    notify_retry_base_seconds: float = 60.0
    notify_retry_max_seconds: float = 3600.0
    notify_send_tick_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0


    @property
    def escalate_to(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.notify_escalate_to.split(",") if r.strip())


@cache
def settings() -> NotificationSettings:
    """Read from the environment once per service start (run_notifications clears it)."""
    return NotificationSettings()


async def request_notification(conn: AsyncConnection, request: NotificationRequest, now: dt.datetime) -> bool:
    """One occurrence of the request's series to its recipients (and its escalation's, once due);
    False for an occurrence taken already or a series stopped. A series with repeat_days repeats
    that long after its latest occurrence, until stopped."""
    series = await store.series_of(conn, request.series_key, lock=True)
    if series is not None and series.stopped_at is not None:
        return False
    number = (series.occurrences if series else 0) + 1
    if not await store.add_occurrence(conn, request.occurrence_key, request.series_key, number, now):
        return False
    next_at = now + dt.timedelta(days=request.repeat_days) if request.repeat_days else None
    await store.save_series(conn, request, number, next_at)
    recipients = recipients_of(request, number)
    found = targets(recipients, await store.subscriptions_of(conn, list(recipients)))
    await store.add_deliveries(conn, request, found, now)
    return True


async def stop_series(conn: AsyncConnection, series_key: str, now: dt.datetime) -> None:
    await store.stop_series(conn, series_key, now)


def _repeat_of(series) -> NotificationRequest:
    return NotificationRequest(
        series_key=series.series_key, occurrence_key=f"{series.series_key}/repeat/{series.occurrences + 1}",
        recipients=tuple(series.recipients), subject=f"Reminder: {series.subject.removeprefix('Reminder: ')}",
        body=series.body,
        repeat_days=series.repeat_days, escalate_after=series.escalate_after, escalate_to=tuple(series.escalate_to),
        data=series.data)


async def fire_due_repeats(ctx: ServiceContext, batch_size: int = 100) -> int:
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await store.claim_due_series(uow.conn, now, batch_size)
        for series in due:
            await request_notification(uow.conn, _repeat_of(series), now)
        await uow.commit()
        return len(due)


async def send_due_deliveries(ctx: ServiceContext, client: httpx.AsyncClient, batch_size: int = 20) -> int:
    """Sends one batch of due deliveries in one transaction; returns how many it attempted."""
    config = settings()
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await store.claim_due_deliveries(uow.conn, now, batch_size)
        for delivery in due:
            try:
                if delivery.channel == "email":
                    await send_mail(config.smtp(), delivery)
                else:
                    await post_webhook(client, delivery, delivery.webhook_secret)
            except Exception as exc:
                attempts = delivery.attempts + 1
                failed = attempts >= config.notify_max_attempts
                log.warning("notification.delivery_failed", delivery_id=str(delivery.delivery_id), attempts=attempts,
                            error=repr(exc)[:300])
                await store.update_delivery(
                    uow.conn, delivery.delivery_id, attempts=attempts, last_error=repr(exc)[:1000],
                    state="failed" if failed else "pending",
                    next_attempt_at=None if failed else now + retry_delay(
                        attempts, config.notify_retry_base_seconds, config.notify_retry_max_seconds))
            else:
                await store.update_delivery(uow.conn, delivery.delivery_id, attempts=delivery.attempts + 1,
                                            state="sent", sent_at=now, next_attempt_at=None)
        await uow.commit()
        return len(due)


async def run_notifications(ctx: ServiceContext, stop: asyncio.Event) -> None:
    """Background loop: repeat what is due, send what is due; a failing sweep is logged and retried."""
    settings.cache_clear()
    tick = settings().notify_send_tick_seconds
    async with httpx.AsyncClient(timeout=settings().webhook_timeout_seconds, follow_redirects=False) as client:
        while not stop.is_set():
            for sweep in (lambda: fire_due_repeats(ctx), lambda: send_due_deliveries(ctx, client)):
                try:
                    while await sweep() and not stop.is_set():
                        pass
                except Exception as exc:
                    log.warning("notification.sweep_failed", error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), tick)
            except TimeoutError:
                pass


async def retry_delivery(uow: UnitOfWork, delivery_id: UUID, now: dt.datetime):
    """A failed delivery is due again now, with its attempts counted afresh; a pending one stays as
    it is; a sent one or one without an address cannot be retried."""
    async with uow:
        row = await store.delivery(uow.conn, delivery_id, lock=True)
        if row is None:
            raise NotFound("notification_delivery", delivery_id)
        if row.state == "sent":
            raise ConflictingState("delivery.already_sent", f"delivery {delivery_id} was sent at {row.sent_at}")
        if row.channel == "none":
            raise ConflictingState("delivery.no_address",
                                   f"{row.recipient} has no subscription: subscribe it, then the next occurrence reaches it")
        if row.state != "pending":
            await store.update_delivery(uow.conn, delivery_id, state="pending", attempts=0, next_attempt_at=now)
        row = await store.delivery(uow.conn, delivery_id)
        await uow.commit()
        return row


async def get_series(uow: UnitOfWork, series_key: str):
    async with uow:
        row = await store.series_of(uow.conn, series_key)
        if row is None:
            raise NotFound("notification_series", series_key)
        return row


async def list_deliveries(uow: UnitOfWork, **filters) -> list:
    async with uow:
        return await store.deliveries(uow.conn, **filters)


async def put_subscription(uow: UnitOfWork, recipient: str, email: str | None, webhook_url: str | None,
                           webhook_secret: str | None, now: dt.datetime):
    """Receivers verify what they get with the secret: a webhook without one is refused."""
    if webhook_url and not webhook_secret:
        raise invalid("notification.webhook_secret_required", "webhook_secret is required with webhook_url",
                      field="webhook_secret")
    async with uow:
        await store.put_subscription(uow.conn, recipient, email, webhook_url, webhook_secret, now)
        row = await store.subscription(uow.conn, recipient)
        await uow.commit()
        return row


async def get_subscription(uow: UnitOfWork, recipient: str):
    async with uow:
        row = await store.subscription(uow.conn, recipient)
        if row is None:
            raise NotFound("notification_subscription", recipient)
        return row

