"""The notification channel's rules, without I/O (docs/operations/notifications.md).

A *request* asks for one occurrence of a notification (its occurrence key) to its recipients, in a
*series* (its series key) that may repeat every `repeat_days` while open and widen to the
`escalate_to` recipients after `escalate_after` unanswered occurrences. Any service's events can be
turned into requests (renewal tasks today, phase 7's obligations and reminders next).

Each occurrence reaches each target (recipient, channel, address) once: a target's delivery id
follows from the four, and the deliveries table holds them unique. A recipient is an e-mail
address (mailed directly) or a user id / `role:<name>` resolved through its subscription.
"""

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID, uuid5

Channel = Literal["email", "webhook", "none"]
DELIVERY_NAMESPACE = UUID("8e4b1f0a-5c7d-5e2f-b3a9-6d0c2e8f1a47")
ROLE_PREFIX = "role:"


@dataclass(frozen=True)
class NotificationRequest:
    series_key: str  # e.g. "renewal_task:<task id>"; the repeats and the stop name it
    occurrence_key: str  # e.g. "renewal_task:<task id>/deadline/30"; one occurrence per key, ever
    recipients: tuple[str, ...]
    subject: str
    body: str
    repeat_days: int | None = None  # None: this occurrence only
    escalate_after: int | None = None  # occurrences unanswered before escalate_to are added
    escalate_to: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)  # what a webhook receiver gets besides subject and body


@dataclass(frozen=True)
class Subscription:
    recipient: str
    email: str | None = None
    webhook_url: str | None = None


@dataclass(frozen=True)
class Target:
    recipient: str
    channel: Channel
    address: str

    def delivery_id(self, occurrence_key: str) -> UUID:
        return uuid5(DELIVERY_NAMESPACE, "\n".join((occurrence_key, self.recipient, self.channel, self.address)))


def is_email_address(recipient: str) -> bool:
    return not recipient.startswith(ROLE_PREFIX) and "@" in recipient.strip("@")


def recipients_of(request: NotificationRequest, occurrence_number: int) -> tuple[str, ...]:
    """The request's recipients, and its escalation's once `escalate_after` occurrences went
    unanswered (occurrence numbers count from 1); each once, in order."""
    escalated = request.escalate_after is not None and occurrence_number > request.escalate_after
    return tuple(dict.fromkeys(request.recipients + (request.escalate_to if escalated else ())))


def targets(recipients: tuple[str, ...], subscriptions: dict[str, Subscription]) -> list[Target]:
    """Where each recipient is reached: its address, or its subscription's e-mail and webhook. A
    recipient reachable nowhere gets a `none` target, so the occurrence shows it as undeliverable."""
    found: list[Target] = []
    for recipient in recipients:
        if is_email_address(recipient):
            found.append(Target(recipient, "email", recipient.strip()))
            continue
        subscription = subscriptions.get(recipient)
        reached = [Target(recipient, channel, address) for channel, address in
                   (("email", subscription and subscription.email), ("webhook", subscription and subscription.webhook_url))
                   if address]
        found += reached or [Target(recipient, "none", "")]
    return list(dict.fromkeys(found))


def retry_delay(attempts: int, base_seconds: float, cap_seconds: float) -> dt.timedelta:
    """Exponential backoff after the `attempts`-th failed attempt: base, 2 base, 4 base, ... capped."""
    return dt.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** (attempts - 1)))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-CLM-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (docs/operations/notifications.md): recompute, compare in constant time,
    refuse a timestamp outside the tolerance window (a replayed request)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")
