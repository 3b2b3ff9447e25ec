"""The notification channel on the real PostgreSQL and Kafka: a subscribed webhook receives a
correctly signed POST; an SMTP server that refuses is retried with exponential backoff, the
delivery is visible as failed after NOTIFY_MAX_ATTEMPTS, and the retry endpoint sends it."""

import datetime as dt
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from services.lifecycle_scheduler.application import notifying
from services.lifecycle_scheduler.domain.notifications import NotificationRequest, verify_signature
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration

FAST = {"ALLOW_CLOCK_CONTROL": "true", "NOTIFY_SEND_TICK_SECONDS": "0.2"}


async def _request(ctx, recipients: tuple[str, ...], subject: str) -> str:
    """A request as any producer makes one (the renewal tasks' handler, phase 7's reminders)."""
    series = f"test:{uuid.uuid4()}"
    async with ctx.uow(actor="test") as uow:
        await notifying.request_notification(uow.conn, NotificationRequest(
            series_key=series, occurrence_key=f"{series}/1", recipients=recipients, subject=subject,
            body="Please look at it.", data={"kind": "test"}), ctx.clock.now())
        await uow.commit()
    return series


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/clm", _Receiver.received
    server.shutdown()


async def test_a_subscribed_webhook_receives_a_signed_post_and_the_secret_is_never_returned(
        service_env, webhook_receiver, smtp_server):
    url, received = webhook_receiver
    recipient, secret = f"role:plant4-ops-{uuid.uuid4().hex[:6]}", "whsec-0123456789abcdef"
    team = f"{recipient.removeprefix('role:')}@plant4.example"
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler:
        path = f"/api/v1/notification-subscriptions/{recipient}"
        r = await scheduler.put(path, json={"webhook_url": "ftp://127.0.0.1/x", "webhook_secret": secret},
                                headers=bearer("asset_manager"))
        assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "webhook_url")
        r = await scheduler.put(path, json={"webhook_url": url}, headers=bearer("asset_manager"))
        assert (r.status_code, r.json()["rule"]) == (422, "notification.webhook_secret_required")
        r = await scheduler.put(path, json={"webhook_url": url, "webhook_secret": secret}, headers=bearer("sales"))
        assert r.status_code == 403  # not their own: an sre or asset manager subscribes a role
        r = await scheduler.put(path, json={"email": team, "webhook_url": url, "webhook_secret": secret},
                                headers=bearer("asset_manager"))
        assert r.status_code == 200 and r.json()["has_webhook_secret"] and secret not in r.text
        r = await scheduler.get(path, headers=bearer("sre"))
        assert (r.json()["email"], r.json()["webhook_url"]) == (team, url) and secret not in r.text

        series = await _request(scheduler.app.state.context, (recipient,), "Renewal due in 30 days: robots")
        await eventually(lambda: _got(received), timeout=30)
        [(headers, body)] = received
        assert verify_signature(secret, headers["X-CLM-Signature"], body, now=int(time.time()))
        assert not verify_signature("another-secret-000000", headers["X-CLM-Signature"], body, now=int(time.time()))
        payload = json.loads(body)
        assert (payload["subject"], payload["recipient"], payload["data"]) == (
            "Renewal due in 30 days: robots", recipient, {"kind": "test"})
        await eventually(lambda: _mailed(smtp_server, team), timeout=30)  # and its e-mail, through the subscription

        async def both_sent():  # marked sent when the sender's batch commits, just after sending
            r = await scheduler.get(f"/api/v1/notification-deliveries?series_key={series}", headers=bearer("sre"))
            found = {d["channel"]: d for d in r.json()["items"]}
            assert sorted(found) == ["email", "webhook"] and {d["state"] for d in found.values()} == {"sent"}, found
            return found

        by_channel = await eventually(both_sent, timeout=10)
        assert by_channel["webhook"]["delivery_id"] == headers["X-CLM-Delivery-Id"]
        [mail] = smtp_server.mailbox.to(team)
        assert mail["X-CLM-Delivery-Id"] == by_channel["email"]["delivery_id"]


async def _got(received):
    return len(received) == 1


async def _mailed(smtp_server, address: str) -> bool:
    return bool(smtp_server.mailbox.to(address))


class _Refusing:
    def __init__(self):
        self.refuse, self.messages = True, []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802 (aiosmtpd's name)
        if self.refuse:
            return "550 5.7.1 relaying refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def to(self, address: str) -> list[bytes]:
        """The messages for `address` (deliveries other tests left pending, due once the clock is
        moved on, may come to this server too)."""
        return [content for recipients, content in self.messages if address in recipients]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_refusing_smtp_server_is_retried_with_backoff_then_failed_and_visible_and_retry_sends(service_env):
    handler, port = _Refusing(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    address = f"refused-{uuid.uuid4().hex[:6]}@plant4.example"
    env = service_env("lifecycle_scheduler", **FAST, SMTP_PORT=str(port), NOTIFY_MAX_ATTEMPTS="3",
                      NOTIFY_RETRY_BASE_SECONDS="600")
    try:
        async with running_service("lifecycle_scheduler", env) as scheduler:
            ctx = scheduler.app.state.context
            await _request(ctx, (address,), "Renewal due today: PLCs")
            deliveries = f"/api/v1/notification-deliveries?recipient={address}"

            async def attempts(n: int, state: str):
                [d] = (await scheduler.get(deliveries, headers=bearer("sre"))).json()["items"]
                assert (d["attempts"], d["state"]) == (n, state), d
                return d

            first = await eventually(lambda: attempts(1, "pending"), timeout=30)
            assert "550" in first["last_error"]
            after = lambda d: dt.datetime.fromisoformat(d["next_attempt_at"]) - ctx.clock.now()  # noqa: E731
            assert dt.timedelta(seconds=590) < after(first) <= dt.timedelta(seconds=600)
            ctx.clock.advance(dt.timedelta(seconds=601))
            second = await eventually(lambda: attempts(2, "pending"), timeout=30)
            assert dt.timedelta(seconds=1190) < after(second) <= dt.timedelta(seconds=1200)  # doubled
            ctx.clock.advance(dt.timedelta(seconds=1201))
            failed = await eventually(lambda: attempts(3, "failed"), timeout=30)
            assert failed["next_attempt_at"] is None and handler.messages == []
            r = await scheduler.get(f"/api/v1/notification-deliveries?state=failed&recipient={address}",
                                    headers=bearer("sre"))
            assert [d["delivery_id"] for d in r.json()["items"]] == [failed["delivery_id"]]

            handler.refuse = False
            r = await scheduler.post(f"/api/v1/notification-deliveries/{failed['delivery_id']}/retry",
                                     headers=bearer("sales"))
            assert r.status_code == 403
            r = await scheduler.post(f"/api/v1/notification-deliveries/{failed['delivery_id']}/retry",
                                     headers=bearer("sre"))
            assert (r.status_code, r.json()["state"], r.json()["attempts"]) == (200, "pending", 0)
            await eventually(lambda: attempts(1, "sent"), timeout=30)
            mine = handler.to(address)
            assert len(mine) == 1 and b"Renewal due today: PLCs" in mine[0]
            r = await scheduler.post(f"/api/v1/notification-deliveries/{failed['delivery_id']}/retry",
                                     headers=bearer("sre"))
            assert (r.status_code, r.json()["rule"]) == (409, "delivery.already_sent")
    finally:
        controller.stop()
