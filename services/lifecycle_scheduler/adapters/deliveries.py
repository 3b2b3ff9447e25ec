"""The notification channel's tables: series (what repeats, until stopped), occurrences (each
once), deliveries (one row per occurrence and target, written before anything is sent, so nothing
is lost and nothing is sent twice) and subscriptions (where a user id or role is reached).

The partial index on pending deliveries makes a send sweep cost what is due, not what exists."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import metadata
from services.lifecycle_scheduler.domain.notifications import NotificationRequest, Subscription, Target

notification_series = sa.Table(
    "notification_series", metadata,
    sa.Column("series_key", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("recipients", ARRAY(sa.Text), nullable=False),
    sa.Column("repeat_days", sa.Integer),
    sa.Column("escalate_after", sa.Integer),
    sa.Column("escalate_to", ARRAY(sa.Text), nullable=False),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column("next_at", sa.DateTime(timezone=True)),
    sa.Column("stopped_at", sa.DateTime(timezone=True)),
    sa.Index("notification_series_due", "next_at", postgresql_where=sa.text("stopped_at IS NULL")),
)

notification_occurrences = sa.Table(
    "notification_occurrences", metadata,
    sa.Column("occurrence_key", sa.Text, primary_key=True),
    sa.Column("series_key", sa.Text, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

notification_deliveries = sa.Table(
    "notification_deliveries", metadata,
    sa.Column("delivery_id", sa.Uuid, primary_key=True),
    sa.Column("occurrence_key", sa.Text, nullable=False),
    sa.Column("series_key", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # pending | sent | failed | canceled
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("occurrence_key", "recipient", "channel", "address", name="notification_deliveries_once"),
    sa.Index("notification_deliveries_due", "next_attempt_at", postgresql_where=sa.text("state = 'pending'")),
    sa.Index("notification_deliveries_state", "state", "delivery_id"),
    sa.Index("notification_deliveries_series", "series_key"),
)

notification_subscriptions = sa.Table(
    "notification_subscriptions", metadata,
    sa.Column("recipient", sa.Text, primary_key=True),
    sa.Column("email", sa.Text),
    sa.Column("webhook_url", sa.Text),
    sa.Column("webhook_secret", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


async def series_of(conn: AsyncConnection, series_key: str, lock: bool = False):
    query = sa.select(notification_series).where(notification_series.c.series_key == series_key)
    return (await conn.execute(query.with_for_update() if lock else query)).one_or_none()


async def save_series(conn: AsyncConnection, request: NotificationRequest, occurrences: int,
                      next_at: dt.datetime | None) -> None:
    row = {"series_key": request.series_key, "subject": request.subject, "body": request.body,
           "recipients": list(request.recipients), "repeat_days": request.repeat_days,
           "escalate_after": request.escalate_after, "escalate_to": list(request.escalate_to), "data": request.data,
           "occurrences": occurrences, "next_at": next_at}
    statement = insert(notification_series).values(row)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[notification_series.c.series_key], set_={k: v for k, v in row.items() if k != "series_key"}))


async def add_occurrence(conn: AsyncConnection, occurrence_key: str, series_key: str, number: int,
                         at: dt.datetime) -> bool:
    """False when the occurrence exists already (a redelivered request)."""
    statement = insert(notification_occurrences).values(occurrence_key=occurrence_key, series_key=series_key,
                                                        number=number, at=at).on_conflict_do_nothing()
    return (await conn.execute(statement)).rowcount == 1


async def stop_series(conn: AsyncConnection, series_key: str, now: dt.datetime) -> None:
    """No more repeats; deliveries of it not attempted yet are canceled."""
    s, d = notification_series.c, notification_deliveries.c
    await conn.execute(notification_series.update().where(s.series_key == series_key, s.stopped_at.is_(None))
                       .values(stopped_at=now, next_at=None))
    await conn.execute(notification_deliveries.update()
                       .where(d.series_key == series_key, d.state == "pending", d.attempts == 0)
                       .values(state="canceled", next_attempt_at=None, last_error="the series was stopped"))


async def claim_due_series(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    s = notification_series.c
    query = (sa.select(notification_series).where(s.stopped_at.is_(None), s.next_at <= now).order_by(s.next_at)
             .limit(limit).with_for_update(skip_locked=True))
    return list(await conn.execute(query))


async def subscriptions_of(conn: AsyncConnection, recipients: list[str]) -> dict[str, Subscription]:
    t = notification_subscriptions.c
    rows = await conn.execute(sa.select(notification_subscriptions).where(t.recipient.in_(recipients)))
    return {r.recipient: Subscription(r.recipient, r.email, r.webhook_url) for r in rows}


async def add_deliveries(conn: AsyncConnection, request: NotificationRequest, found: list[Target],
                         now: dt.datetime) -> None:
    """One row per target, pending (a `none` target failed at once); an existing one stays as it is."""
    if not found:
        return
    rows = [{"delivery_id": target.delivery_id(request.occurrence_key), "occurrence_key": request.occurrence_key,
             "series_key": request.series_key, "recipient": target.recipient, "channel": target.channel,
             "address": target.address, "subject": request.subject, "body": request.body, "data": request.data,
             "state": "failed" if target.channel == "none" else "pending", "attempts": 0,
             "next_attempt_at": None if target.channel == "none" else now,
             "last_error": f"no subscription reaches {target.recipient}" if target.channel == "none" else None,
             "created_at": now} for target in found]
    await conn.execute(insert(notification_deliveries).values(rows).on_conflict_do_nothing())


async def claim_due_deliveries(conn: AsyncConnection, now: dt.datetime, limit: int) -> list:
    d = notification_deliveries.c
    query = (sa.select(notification_deliveries, notification_subscriptions.c.webhook_secret)
             .outerjoin(notification_subscriptions, notification_subscriptions.c.recipient == d.recipient)
             .where(d.state == "pending", d.next_attempt_at <= now).order_by(d.next_attempt_at).limit(limit)
             .with_for_update(of=notification_deliveries, skip_locked=True))
    return list(await conn.execute(query))


async def update_delivery(conn: AsyncConnection, delivery_id: UUID, **values) -> None:
    d = notification_deliveries.c
    await conn.execute(notification_deliveries.update().where(d.delivery_id == delivery_id).values(**values))


async def delivery(conn: AsyncConnection, delivery_id: UUID, lock: bool = False):
    query = sa.select(notification_deliveries).where(notification_deliveries.c.delivery_id == delivery_id)
    return (await conn.execute(query.with_for_update() if lock else query)).one_or_none()


async def deliveries(conn: AsyncConnection, *, state: str | None, recipient: str | None, series_key: str | None,
                     after: UUID | None, limit: int) -> list:
    d = notification_deliveries.c
    query = sa.select(notification_deliveries).order_by(d.delivery_id).limit(limit)
    for column, value in ((d.state, state), (d.recipient, recipient), (d.series_key, series_key)):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(d.delivery_id > after)
    return list(await conn.execute(query))


async def put_subscription(conn: AsyncConnection, recipient: str, email: str | None, webhook_url: str | None,
                           webhook_secret: str | None, now: dt.datetime) -> None:
    row = {"recipient": recipient, "email": email, "webhook_url": webhook_url, "webhook_secret": webhook_secret,
           "updated_at": now}
    statement = insert(notification_subscriptions).values(row)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[notification_subscriptions.c.recipient],
        set_={k: v for k, v in row.items() if k != "recipient"}))


async def subscription(conn: AsyncConnection, recipient: str):
    t = notification_subscriptions.c
    return (await conn.execute(sa.select(notification_subscriptions).where(t.recipient == recipient))).one_or_none()
