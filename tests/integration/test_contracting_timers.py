"""Contracting's timers (phases 4-6) in the scheduler, on real PostgreSQL and Kafka.

clm's approval and signature events arrive on clm.contracts.v1 as clm publishes them (CloudEvents
keyed by the contract id); the scheduler warns and escalates approval steps, reminds pending
signers and announces envelope deadlines and contract starts, each once on its own topic, drops
what a closing event ends, and fires exactly once with two replicas sweeping and after a restart.
"""

import asyncio
import datetime as dt
import uuid
from collections import Counter
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.lifecycle_scheduler.domain.approval_deadlines import ApprovalDeadlines
from services.lifecycle_scheduler.domain.contract_start import ContractStart
from services.lifecycle_scheduler.domain.signature_dates import SignatureDates
from shared.events import topics
from shared.events.approvals import (
    ApprovalGranted, ApprovalRejected, ApprovalsInvalidated, ApprovalStepOpened, Approver,
)
from shared.events.base import Event
from shared.events.contracts import ContractRequestStateChanged
from shared.events.documents import DocumentRef
from shared.events.envelope import Envelope, from_kafka, to_kafka
from shared.events.signature import (
    ContractExecuted, SignatureCanceled, SignatureRequested, Signer, SignerDeclined, SignerInvited, SignerSigned,
)
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration

T0 = dt.datetime(2031, 1, 6, 9, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
LEGAL = [Approver(kind="role", value="legal_counsel")]
DOC = DocumentRef(document_id=uuid.uuid4(), sha256="0" * 64, size=10, media_type="application/pdf", filename="c.pdf")
TABLES = ("approval_timers", "signature_deadline_timers", "signature_reminder_timers", "contract_start_timers")


async def publish(stack, *events: Event) -> list[Envelope]:
    """As clm's relay does: CloudEvents in binary mode on clm.contracts.v1, keyed by the contract id."""
    envelopes = [Envelope(event, stream_version=i) for i, event in enumerate(events, start=1)]
    producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            topic, headers, value, key = to_kafka(envelope)
            assert topic == topics.CLM_CONTRACTS and key == str(envelope.event.contract_id)
            await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    return envelopes


def scheduler_env(service_env):
    return service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")


async def stream(scheduler, stream_id: str) -> list[dict]:
    """The scheduler's events on one stream: (event type and payload) in order."""
    async with scheduler.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type, payload FROM events WHERE stream_id = :s ORDER BY version"),
                                  {"s": stream_id})
        return [{"type": r.event_type, **r.payload} for r in rows]


async def taken(scheduler, envelopes: list[Envelope]) -> None:
    """Waits until the scheduler's contracting consumer has taken these events (its inbox)."""
    ids = [e.event_id for e in envelopes]

    async def all_in():
        async with scheduler.app.state.context.engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM inbox WHERE consumer = 'lifecycle_scheduler-contracting' "
                            "AND event_id = ANY(:ids)")
            return (await conn.execute(query, {"ids": ids})).scalar_one() == len(ids)

    await eventually(all_in, timeout=60)


async def at_time(scheduler, instant: dt.datetime) -> None:
    """Moves the scheduler's time and waits until its own loop left no timer due by then unfired
    (it sweeps every 0.05 s; a claim this test made itself would race it)."""
    ctx = scheduler.app.state.context
    ctx.clock.set(instant)

    async def none_left_due():
        async with ctx.engine.connect() as conn:
            for table in TABLES:
                query = sa.text(f"SELECT count(*) FROM {table} WHERE fired_at IS NULL AND due_at <= :now")
                assert (await conn.execute(query, {"now": instant})).scalar_one() == 0, table
        return True

    await eventually(none_left_due)
    await asyncio.sleep(0.2)  # the sweep that fired the last of them has committed its events


async def view(scheduler, path: str) -> dict | None:
    r = await scheduler.get(f"/api/v1/{path}", headers=bearer("contract_manager"))
    return r.json() if r.status_code == 200 else None


def opened(contract_id, step_id, level=0, opened_at=T0, sla=DAY, approvers=LEGAL) -> ApprovalStepOpened:
    return ApprovalStepOpened(contract_id=contract_id, step_id=step_id, round=1, level=level, approvers=approvers,
                              opened_at=opened_at, at_risk_at=opened_at + sla * 0.75, due_at=opened_at + sla)


def types(events: list[dict]) -> list[tuple]:
    return [(e["type"], e.get("level", e.get("number"))) for e in events]


# -- approval SLAs ------------------------------------------------------------------------------


async def notified(scheduler, step_id) -> set[tuple[str, str]]:
    """(occurrence, recipient) of the step's notifications (GET /api/v1/notification-deliveries)."""
    r = await scheduler.get("/api/v1/notification-deliveries", params={"series_key": f"approval_step:{step_id}"},
                            headers=bearer("sre"))
    assert r.status_code == 200, r.text
    return {(d["occurrence_key"].split("/", 1)[1], d["recipient"]) for d in r.json()["items"]}


async def test_an_open_step_is_warned_and_escalated_once_per_level_and_closed_steps_never_fire(
        service_env, stack, smtp_server):
    contract = uuid.uuid4()
    stalled, granted, rejected = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    head_of_legal, mailbox = f"u-head-of-legal-{contract.hex[:8]}", f"head-{contract.hex[:8]}@legal.example"
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0)
        r = await scheduler.put(f"/api/v1/notification-subscriptions/{head_of_legal}", json={"email": mailbox},
                                headers=bearer("sre"))
        assert r.status_code in (200, 201), r.text
        sent = await publish(stack, opened(contract, stalled), opened(contract, granted), opened(contract, rejected),
                             ApprovalGranted(contract_id=contract, step_id=granted, by="u-legal", roles=["legal_counsel"],
                                             at=T0 + H),
                             ApprovalRejected(contract_id=contract, step_id=rejected, by="u-legal", roles=["legal_counsel"],
                                              comment="no", closed_step_ids=[rejected], at=T0 + H))
        await taken(scheduler, sent)
        timers = await view(scheduler, f"approval-steps/{stalled}/timers")
        assert timers == {"step_id": str(stalled), "contract_id": str(contract), "timers": [
            {"level": 0, "mark": "at_risk", "due_at": "2031-01-07T03:00:00Z", "step_due_at": "2031-01-07T09:00:00Z",
             "fired_at": None},
            {"level": 0, "mark": "deadline", "due_at": "2031-01-07T09:00:00Z", "step_due_at": "2031-01-07T09:00:00Z",
             "fired_at": None}]}
        for closed in (granted, rejected):  # dropped on the grant, on the rejection
            assert await view(scheduler, f"approval-steps/{closed}/timers") is None

        await at_time(scheduler, T0 + 18 * H - dt.timedelta(minutes=10))  # the clock runs on from where it is set
        assert await stream(scheduler, ApprovalDeadlines.stream_id(stalled)) == []
        await at_time(scheduler, T0 + 18 * H)
        assert types(await stream(scheduler, ApprovalDeadlines.stream_id(stalled))) == [("ApprovalStepAtRiskReached", 0)]
        assert await notified(scheduler, stalled) == {("level/0/at_risk", "role:legal_counsel")}
        await at_time(scheduler, T0 + DAY)
        reached = await stream(scheduler, ApprovalDeadlines.stream_id(stalled))
        assert types(reached) == [("ApprovalStepAtRiskReached", 0), ("ApprovalStepDeadlineReached", 0)]
        assert (reached[1]["due_at"], reached[1]["reached_at"]) == ("2031-01-07T09:00:00Z", "2031-01-07T09:00:00Z")
        assert await notified(scheduler, stalled) == {("level/0/at_risk", "role:legal_counsel"),
                                                      ("level/0/deadline", "role:legal_counsel"),
                                                      ("level/0/deadline", "role:contract_manager")}

        # clm escalates: the step opens at level 1 with a new SLA; then the step is invalidated
        level_1 = opened(contract, stalled, level=1, opened_at=T0 + DAY, sla=2 * DAY,
                         approvers=[Approver(kind="user", value=head_of_legal)])
        sent = await publish(stack, level_1)
        await taken(scheduler, sent)
        await eventually(lambda: _mailed(smtp_server, mailbox, "Approval escalated to you"), timeout=60)
        await at_time(scheduler, T0 + DAY + 36 * H)
        sent = await publish(stack, ApprovalsInvalidated(contract_id=contract, round=1, version_number=3,
                                                         reason="new version", closed_step_ids=[stalled], by="u-sales",
                                                         at=T0 + DAY + 37 * H))
        await taken(scheduler, sent)
        await at_time(scheduler, T0 + 10 * DAY)
        assert types(await stream(scheduler, ApprovalDeadlines.stream_id(stalled))) == [
            ("ApprovalStepAtRiskReached", 0), ("ApprovalStepDeadlineReached", 0), ("ApprovalStepAtRiskReached", 1)]
        for step in (granted, rejected):
            assert await stream(scheduler, ApprovalDeadlines.stream_id(step)) == []
        timers = (await view(scheduler, f"approval-steps/{stalled}/timers"))["timers"]
        assert [(t["level"], t["mark"], t["fired_at"] is not None) for t in timers] == [
            (0, "at_risk", True), (0, "deadline", True), (1, "at_risk", True)]  # level 1's deadline dropped
        assert {n for n in await notified(scheduler, stalled) if n[0].startswith("level/1/")} == {
            ("level/1/escalated", head_of_legal), ("level/1/at_risk", head_of_legal)}
        for step in (granted, rejected):
            assert await notified(scheduler, step) == set()
        await eventually(lambda: _mailed(smtp_server, mailbox, "Approval due by 2031-01-09 09:00 UTC"), timeout=60)

    warned = await on_kafka_all(stack, topics.LIFECYCLE_APPROVAL_DEADLINES, {str(stalled)}, 3)
    assert [(e.event.event_type, e.event.level, e.stream_version) for e in warned] == [
        ("ApprovalStepAtRiskReached", 0, 1), ("ApprovalStepDeadlineReached", 0, 2), ("ApprovalStepAtRiskReached", 1, 3)]
    assert warned[2].event.due_at == T0 + 3 * DAY and warned[2].event.contract_id == contract


async def _mailed(smtp_server, address: str, subject: str) -> bool:
    return any(subject in (m["Subject"] or "") for m in smtp_server.mailbox.to(address))


async def test_a_new_level_replaces_the_unfired_timers_of_the_level_before(service_env, stack):
    """clm may escalate (or re-open) a step before the scheduler's deadline: the old level's
    deadline must not fire on top of the new level's timers."""
    contract, step = uuid.uuid4(), uuid.uuid4()
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0)
        sent = await publish(stack, opened(contract, step), opened(contract, step, level=1, opened_at=T0 + H))
        await taken(scheduler, sent)
        timers = (await view(scheduler, f"approval-steps/{step}/timers"))["timers"]
        assert {(t["level"], t["mark"]) for t in timers} == {(1, "at_risk"), (1, "deadline")}
        await at_time(scheduler, T0 + 3 * DAY)
        assert types(await stream(scheduler, ApprovalDeadlines.stream_id(step))) == [
            ("ApprovalStepAtRiskReached", 1), ("ApprovalStepDeadlineReached", 1)]


async def test_a_request_cancelled_while_steps_are_open_warns_and_escalates_nobody(service_env, stack):
    contract, step, other_contract, other_step = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0)
        cancelled = ContractRequestStateChanged(contract_id=contract, from_state="awaiting_approval",
                                                to_state="cancelled", by="u-cm", at=T0 + H, reason="deal lost")
        sent = await publish(stack, opened(contract, step), opened(other_contract, other_step), cancelled)
        await taken(scheduler, sent)
        assert await view(scheduler, f"approval-steps/{step}/timers") is None
        await at_time(scheduler, T0 + 3 * DAY)
        assert await stream(scheduler, ApprovalDeadlines.stream_id(step)) == []
        assert types(await stream(scheduler, ApprovalDeadlines.stream_id(other_step))) == [  # another contract's fire
            ("ApprovalStepAtRiskReached", 0), ("ApprovalStepDeadlineReached", 0)]


# -- signature reminders and deadline -----------------------------------------------------------


def signers(n: int) -> list[Signer]:
    return [Signer(signer_id=uuid.uuid4(), name=f"Signer {i}", email=f"s{i}@example.com",
                   role="customer" if i == 0 else "internal", routing_order=1) for i in range(n)]


def requested(contract, envelope, people, deadline, every: int | None = 2) -> SignatureRequested:
    return SignatureRequested(contract_id=contract, envelope_id=envelope, version_number=2, document=DOC,
                              provider="builtin", signers=people, deadline=deadline, reminder_every_days=every,
                              by="u-cm", at=T0)


def invited(contract, envelope, signer: Signer, at=T0) -> SignerInvited:
    return SignerInvited(contract_id=contract, envelope_id=envelope, signer_id=signer.signer_id,
                         routing_order=signer.routing_order, at=at)


async def test_pending_signers_are_reminded_every_n_days_until_they_sign_and_the_deadline_is_announced(service_env, stack):
    contract, envelope = uuid.uuid4(), uuid.uuid4()
    first, second = people = signers(2)
    deadline = T0 + 7 * DAY
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0)
        sent = await publish(stack, requested(contract, envelope, people, deadline), invited(contract, envelope, first),
                             invited(contract, envelope, second, at=T0 + H))
        await taken(scheduler, sent)
        timers = await view(scheduler, f"signature-envelopes/{envelope}/timers")
        assert timers["deadline"] == {"due_at": "2031-01-13T09:00:00Z", "reminder_every_days": 2, "fired_at": None}
        assert {(r["signer_id"], r["number"], r["due_at"]) for r in timers["reminders"]} == {
            (str(first.signer_id), 1, "2031-01-08T09:00:00Z"), (str(second.signer_id), 1, "2031-01-08T10:00:00Z")}

        stream_id = SignatureDates.stream_id(envelope)
        await at_time(scheduler, T0 + 2 * DAY)
        assert [(e["signer_id"], e["number"]) for e in await stream(scheduler, stream_id)] == [(str(first.signer_id), 1)]
        sent = await publish(stack, SignerSigned(contract_id=contract, envelope_id=envelope, signer_id=first.signer_id,
                                                 at=T0 + 2 * DAY + H, typed_name="Signer 0"))
        await taken(scheduler, sent)
        for instant in (T0 + 3 * DAY, T0 + 5 * DAY, T0 + 6 * DAY + 2 * H, T0 + 10 * DAY):  # each reminder's day
            await at_time(scheduler, instant)
        reached = await stream(scheduler, stream_id)
        assert [(e["type"], e.get("signer_id"), e.get("number")) for e in reached] == [
            ("SignatureReminderDue", str(first.signer_id), 1),
            ("SignatureReminderDue", str(second.signer_id), 1),  # day 2 + 1 h
            ("SignatureReminderDue", str(second.signer_id), 2),  # day 4 + 1 h
            ("SignatureReminderDue", str(second.signer_id), 3),  # day 6 + 1 h; day 8 is past the deadline
            ("SignatureDeadlineReached", None, None)]
        assert reached[-1]["deadline"] == "2031-01-13T09:00:00Z"
        assert reached[3]["due_at"] == "2031-01-12T10:00:00Z"

    on_topic = await on_kafka_all(stack, topics.LIFECYCLE_SIGNATURE_DATES, {str(envelope)}, 5)
    assert [e.event.event_type for e in on_topic] == ["SignatureReminderDue"] * 4 + ["SignatureDeadlineReached"]
    assert {e.event.contract_id for e in on_topic} == {contract}


async def test_an_envelope_that_ends_stops_every_reminder_and_its_deadline(service_env, stack):
    contract = uuid.uuid4()
    ends = {"declined": lambda c, e, s: SignerDeclined(contract_id=c, envelope_id=e, signer_id=s.signer_id, at=T0 + H,
                                                       reason="terms"),
            "canceled": lambda c, e, s: SignatureCanceled(contract_id=c, envelope_id=e, reason="void", by="u-cm",
                                                          at=T0 + H),
            "executed": lambda c, e, s: executed(c, e, dt.date(2031, 2, 1))}
    envelopes = {how: uuid.uuid4() for how in ends}
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0)
        events = []
        for how, end in ends.items():
            people = signers(2)
            events += [requested(contract, envelopes[how], people, T0 + 5 * DAY, every=1),
                       *(invited(contract, envelopes[how], s) for s in people), end(contract, envelopes[how], people[0])]
        await taken(scheduler, await publish(stack, *events))
        await at_time(scheduler, T0 + 30 * DAY)
        for how, envelope in envelopes.items():
            assert await stream(scheduler, SignatureDates.stream_id(envelope)) == [], how
            assert await view(scheduler, f"signature-envelopes/{envelope}/timers") is None, how


async def test_an_envelope_without_reminders_gets_only_its_deadline_even_one_already_past(service_env, stack):
    contract, envelope = uuid.uuid4(), uuid.uuid4()
    people = signers(1)
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0 + 3 * DAY)
        sent = await publish(stack, requested(contract, envelope, people, T0 + DAY, every=None),
                             invited(contract, envelope, people[0]))
        await taken(scheduler, sent)

        async def deadline_reached():
            return types(await stream(scheduler, SignatureDates.stream_id(envelope))) == [("SignatureDeadlineReached", None)]

        await eventually(deadline_reached)
        assert (await view(scheduler, f"signature-envelopes/{envelope}/timers"))["reminders"] == []


# -- contract start -----------------------------------------------------------------------------


def executed(contract, envelope, start: dt.date, zone="Europe/Berlin") -> ContractExecuted:
    return ContractExecuted(contract_id=contract, envelope_id=envelope, version_number=2, signed_document=DOC,
                            audit_certificate=DOC, start_date=start, end_date=start + dt.timedelta(days=364),
                            time_zone=zone, executed_at=T0)


async def test_an_executed_contract_starts_at_the_beginning_of_its_start_date_in_its_zone_once(service_env, stack):
    later, past = uuid.uuid4(), uuid.uuid4()
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        scheduler.app.state.context.clock.set(T0)
        sent = await publish(stack, executed(later, uuid.uuid4(), dt.date(2031, 3, 31)),  # Berlin's first CEST midnight
                             executed(past, uuid.uuid4(), dt.date(2030, 12, 1), zone="America/New_York"))
        await taken(scheduler, sent)

        async def past_started():  # at once: its start date lies behind
            return types(await stream(scheduler, ContractStart.stream_id(past))) == [("ContractStartReached", None)]

        await eventually(past_started)
        timer = await view(scheduler, f"contracts/{later}/start-timer")
        assert (timer["start_date"], timer["time_zone"], timer["due_at"], timer["fired_at"]) == (
            "2031-03-31", "Europe/Berlin", "2031-03-30T22:00:00Z", None)
        await at_time(scheduler, dt.datetime(2031, 3, 30, 21, 50, tzinfo=dt.UTC))
        assert await stream(scheduler, ContractStart.stream_id(later)) == []
        await at_time(scheduler, dt.datetime(2031, 3, 30, 22, tzinfo=dt.UTC))
        await at_time(scheduler, dt.datetime(2032, 1, 1, tzinfo=dt.UTC))
        (started,) = await stream(scheduler, ContractStart.stream_id(later))
        assert (started["start_date"], started["reached_at"]) == ("2031-03-31", "2031-03-30T22:00:00Z")
        assert (await view(scheduler, f"contracts/{later}/start-timer"))["fired_at"] is not None

    (on_topic,) = await on_kafka_all(stack, topics.LIFECYCLE_CONTRACT_STARTS, {str(later)}, 1)
    assert (on_topic.key, on_topic.event.time_zone) == (str(later), "Europe/Berlin")


# -- exactly once across replicas and restarts --------------------------------------------------


async def test_two_replicas_and_a_restart_announce_each_timer_once(service_env, stack):
    events, expected, per_topic = [], Counter(), Counter()
    for i in range(10):
        contract, step, envelope = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        people = signers(2)
        events += [opened(contract, step), requested(contract, envelope, people, T0 + 5 * DAY, every=1),
                   *(invited(contract, envelope, s) for s in people), executed(contract, uuid.uuid4(), dt.date(2031, 2, 1))]
        expected[str(step)] = 2  # at risk, deadline
        expected[str(envelope)] = 2 * 4 + 1  # days 1-4 for each signer, then the deadline
        expected[str(contract)] = 1
        per_topic.update({topics.LIFECYCLE_APPROVAL_DEADLINES: 2, topics.LIFECYCLE_SIGNATURE_DATES: 9,
                          topics.LIFECYCLE_CONTRACT_STARTS: 1})
    late_contract = uuid.uuid4()
    env = scheduler_env(service_env)
    async with AsyncExitStack() as running:
        one = await running.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await running.enter_async_context(running_service("lifecycle_scheduler", env))
        for replica in (one, two):
            replica.app.state.context.clock.set(T0)
        await taken(one, await publish(stack, *events))
        for day in range(1, 8):  # both loops sweep each day of the week
            for replica in (one, two):
                replica.app.state.context.clock.set(T0 + day * DAY)
            await at_time(one, T0 + day * DAY)
        await at_time(one, dt.datetime(2031, 2, 2, tzinfo=dt.UTC))
        await at_time(two, dt.datetime(2031, 2, 2, tzinfo=dt.UTC))
    await publish(stack, executed(late_contract, uuid.uuid4(), dt.date(2031, 1, 10)))  # while none runs
    async with running_service("lifecycle_scheduler", env) as three:
        three.app.state.context.clock.set(dt.datetime(2031, 2, 2, tzinfo=dt.UTC))
        engine = three.app.state.context.engine

        async def late_started():
            return len(await stream(three, ContractStart.stream_id(late_contract))) == 1

        await eventually(late_started, timeout=60)
        await asyncio.sleep(0.5)
        async with engine.connect() as conn:
            for table in TABLES:
                query = sa.text(f"SELECT count(*) FROM {table} WHERE fired_at IS NULL AND due_at <= :now")
                assert (await conn.execute(query, {"now": dt.datetime(2031, 2, 2, tzinfo=dt.UTC)})).scalar_one() == 0
    expected[str(late_contract)] = 1
    per_topic[topics.LIFECYCLE_CONTRACT_STARTS] += 1

    by_key: Counter = Counter()
    for topic, count in per_topic.items():
        for envelope in await on_kafka_all(stack, topic, set(expected), count):
            by_key[envelope.key] += 1
    assert by_key == expected


# -- REST -----------------------------------------------------------------------------------------


async def test_the_timer_resources_need_a_token_and_answer_404_for_what_they_do_not_hold(service_env, stack):
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        unknown = uuid.uuid4()
        for path, rule in ((f"approval-steps/{unknown}/timers", "approval_step_timers.not_found"),
                           (f"signature-envelopes/{unknown}/timers", "signature_envelope_timers.not_found"),
                           (f"contracts/{unknown}/start-timer", "contract_start_timer.not_found")):
            assert (await scheduler.get(f"/api/v1/{path}")).status_code == 401
            r = await scheduler.get(f"/api/v1/{path}", headers=bearer("sales"))
            assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
            assert r.json()["rule"] == rule and str(unknown) in r.json()["detail"]


async def on_kafka_all(stack, topic: str, keys: set[str], expected: int) -> list[Envelope]:
    """Every event under these keys on `topic`, each event id once (a relay's resend is one event),
    read from the beginning until `expected` arrived, then a second longer for any that should not
    be there."""
    consumer = AIOKafkaConsumer(topic, **stack.kafka_admin.options(), group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    found: dict[uuid.UUID, Envelope] = {}
    try:
        async with asyncio.timeout(60):
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for messages in batch.values():
                    for m in messages:
                        envelope = from_kafka(m.headers, m.key, m.value)
                        if envelope.key in keys:
                            found.setdefault(envelope.event_id, envelope)
                if len(found) >= expected:
                    break
            for messages in (await consumer.getmany(timeout_ms=1000)).values():
                for m in messages:
                    envelope = from_kafka(m.headers, m.key, m.value)
                    if envelope.key in keys:
                        found.setdefault(envelope.event_id, envelope)
    finally:
        await consumer.stop()
    return sorted(found.values(), key=lambda e: (e.key, e.stream_version))
