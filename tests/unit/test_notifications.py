"""The notification channel's rules: renewal deadlines (offsets, only the latest of those due at
once), recipients and targets (each once per occurrence), escalation, backoff, signatures."""

import datetime as dt
import uuid

import pytest

from services.lifecycle_scheduler.domain.notifications import (
    NotificationRequest, Subscription, Target, recipients_of, retry_delay, signature, targets, verify_signature,
)
from services.lifecycle_scheduler.domain.renewal_deadlines import (
    RenewalDeadlines, deadline_instant, parse_offsets, planned_deadlines, to_announce,
)

END = dt.date(2027, 6, 30)


def test_offsets_are_read_largest_first_and_bad_ones_refused():
    assert parse_offsets("0, 30,90,60,30") == (90, 60, 30, 0)
    for bad in ("", "30,-1", "x"):
        with pytest.raises(ValueError):
            parse_offsets(bad)


def test_a_deadline_falls_due_when_its_day_begins_in_the_contracts_zone():
    assert deadline_instant(END, 30, "Europe/Berlin") == dt.datetime(2027, 5, 30, 22, tzinfo=dt.UTC)
    assert [days for days, _ in planned_deadlines(END, "UTC", (90, 60, 30, 0))] == [90, 60, 30, 0]


def test_of_the_deadlines_due_at_once_only_the_latest_is_announced_and_each_once():
    assert to_announce([90, 60, 30]) == 30 and to_announce([]) is None
    deadlines = RenewalDeadlines.for_period(uuid.uuid4(), END)
    contract_id = uuid.uuid4()
    assert deadlines.reach(contract_id, END, 30, "UTC") and not deadlines.reach(contract_id, END, 30, "UTC")
    assert [e.days_before for e in deadlines.pending_events] == [30]


def test_each_recipient_is_reached_once_per_target_and_one_without_subscription_shows_as_undeliverable():
    subscriptions = {"u-17": Subscription("u-17", email="u17@plant4.example", webhook_url="https://hooks.example/u17"),
                     "role:asset_manager": Subscription("role:asset_manager", email="assets@plant4.example")}
    found = targets(("ot@plant4.example", "u-17", "ot@plant4.example", "role:asset_manager", "u-99"), subscriptions)
    assert found == [Target("ot@plant4.example", "email", "ot@plant4.example"),
                     Target("u-17", "email", "u17@plant4.example"), Target("u-17", "webhook", "https://hooks.example/u17"),
                     Target("role:asset_manager", "email", "assets@plant4.example"), Target("u-99", "none", "")]
    ids = {t.delivery_id("renewal_task:1/deadline/30") for t in found}
    assert len(ids) == len(found)  # one delivery per target of an occurrence ...
    assert found[0].delivery_id("renewal_task:1/deadline/30") == found[0].delivery_id("renewal_task:1/deadline/30")
    assert found[0].delivery_id("renewal_task:1/deadline/30") != found[0].delivery_id("renewal_task:1/repeat/2")


def test_escalation_adds_its_recipients_after_the_unanswered_occurrences():
    request = NotificationRequest("s", "s/1", ("u-17",), "subject", "body", repeat_days=7, escalate_after=2,
                                  escalate_to=("role:asset_manager", "u-17"))
    assert [recipients_of(request, n) for n in (1, 2, 3)] == [("u-17",), ("u-17",), ("u-17", "role:asset_manager")]
    assert recipients_of(NotificationRequest("s", "s/1", ("a@b.example",), "s", "b"), 99) == ("a@b.example",)


def test_retries_back_off_exponentially_up_to_the_cap():
    assert [retry_delay(n, 60, 3600).total_seconds() for n in range(1, 8)] == [60, 120, 240, 480, 960, 1920, 3600]


def test_a_receiver_verifies_the_signature_in_a_tolerance_window():
    body = b'{"delivery_id":"x"}'
    header = signature("s3cret-s3cret-s3cret", 1_800_000_000, body)
    assert header.startswith("t=1800000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature("s3cret-s3cret-s3cret", header, body, now=1_800_000_100)
    assert not verify_signature("s3cret-s3cret-s3cret", header, body + b" ", now=1_800_000_100)  # body changed
    assert not verify_signature("another-secret-xxxx", header, body, now=1_800_000_100)
    assert not verify_signature("s3cret-s3cret-s3cret", header, body, now=1_800_000_000 + 301)  # replayed late
    assert not verify_signature("s3cret-s3cret-s3cret", "garbage", body, now=1_800_000_000)
