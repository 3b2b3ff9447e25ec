"""Legal contracts' periods in the scheduler, on the real PostgreSQL, Kafka and SMTP server.

clm's RenewalTermsSet, ContractActivated, ContractRenewed, TerminationNoticeGiven and
RenewalReminderAcknowledged arrive on clm.contracts.v1 as clm publishes them. A tacit 12-month
contract with 90 days' notice and 30 days' lead time is reminded 90/60/30/0 days before its
cancel-by date (two owners mailed, repeated, escalated to the contract manager, stopped by the
acknowledgement), its period end announces ContractPeriodEnded (not ContractExpired), the renewal
moves the timers to period 2, and a notice for period 2 expires it at that end. An express contract
expires at its end whatever order its terms and activation come in; a notice taken after its
period end was announced expires the contract at once; two replicas announce each reminder once."""

import asyncio
import datetime as dt
import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from shared.events import topics
from shared.events.base import Event
from shared.events.contracts import ContractActivated, Party
from shared.events.envelope import Envelope, to_kafka
from shared.events.renewal_terms import (
    ContractPeriod, ContractRenewed, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet,
    TerminationNoticeGiven,
)
from services.lifecycle_scheduler.adapters import deliveries as store
from services.lifecycle_scheduler.domain.schedule import start_of_day
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration

ZONE = "Europe/Berlin"
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
FAST = {"ALLOW_CLOCK_CONTROL": "true", "SCHEDULER_TICK_SECONDS": "0.05", "NOTIFY_SEND_TICK_SECONDS": "0.05",
        "NOTIFY_REPEAT_DAYS": "7", "NOTIFY_ESCALATE_AFTER": "2"}
# As clm computes them (docs/contracting/renewals.md): 12 months from 31 January, 90 days' notice, 30 days' lead.
PERIOD_1 = ContractPeriod(number=1, start_date=dt.date(2031, 1, 31), end_date=dt.date(2032, 1, 30),
                          notice_deadline=dt.date(2031, 11, 1), cancel_by=dt.date(2031, 10, 2))
PERIOD_2 = ContractPeriod(number=2, start_date=dt.date(2032, 1, 31), end_date=dt.date(2033, 1, 30),
                          notice_deadline=dt.date(2032, 11, 1), cancel_by=dt.date(2032, 10, 2))
AT = dt.datetime(2031, 1, 20, 9, tzinfo=dt.UTC)


class Clm:
    """Publishes one contract's events as clm's relay does: CloudEvents on clm.contracts.v1, keyed
    by the contract id, with the stream's versions in order."""

    def __init__(self, stack, contract_id: uuid.UUID):
        self.stack, self.contract_id, self.version = stack, contract_id, 0

    async def publish(self, *events: Event) -> None:
        producer = AIOKafkaProducer(**self.stack.kafka_admin.options(), enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                self.version += 1
                topic, headers, value, key = to_kafka(Envelope(event, stream_version=self.version))
                assert topic == topics.CLM_CONTRACTS and key == str(self.contract_id)
                await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
        finally:
            await producer.stop()


def terms_set(contract_id, renewal="tacit", owners=("owner@example.com",), period=PERIOD_1) -> RenewalTermsSet:
    terms = RenewalTerms(initial_term="P12M", renewal=renewal, notice_period="P90D", lead_time="P30D",
                         owners=list(owners))
    return RenewalTermsSet(contract_id=contract_id, terms=terms, start_date=period.start_date, time_zone=ZONE,
                           period=period, set_by="u-sales", at=AT)


def activated(contract_id, period=PERIOD_1) -> ContractActivated:
    return ContractActivated(contract_id=contract_id, number=f"C-{contract_id.hex[:6]}", title="Robot maintenance",
                             contract_model="maintenance", parties=[Party(role="customer", name="ACME")],
                             start_date=period.start_date, end_date=period.end_date, time_zone=ZONE)


async def stream(scheduler, stream_id: str) -> list[dict]:
    async with scheduler.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type, payload FROM events WHERE stream_id = :s ORDER BY version"),
                                  {"s": stream_id})
        return [{"type": r.event_type, **r.payload} for r in rows]


async def announced(scheduler, contract_id) -> list[tuple]:
    return [(e["type"], e.get("anchor"), e.get("days_before"), e["period_number"])
            for e in await stream(scheduler, f"contract-periods:{contract_id}")]


async def schedule_events(scheduler, contract_id) -> list[tuple]:
    return [(e["type"], e["end_date"]) for e in await stream(scheduler, str(contract_id))]


async def period_timers(scheduler, contract_id) -> list[tuple]:
    r = await scheduler.get(f"/api/v1/contracts/{contract_id}/period-timers", headers=bearer("sales"))
    assert r.status_code == 200, r.text
    return [(t["period_number"], t["anchor"], t["days_before"], t["fired_at"] is not None, t["skipped"])
            for t in r.json()["timers"]]


async def at_time(scheduler, instant: dt.datetime) -> None:
    """Moves the scheduler's clock and waits until its own loop left no period timer due unfired."""
    ctx = scheduler.app.state.context
    ctx.clock.set(instant)

    async def none_left_due():
        async with ctx.engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM contract_period_timers WHERE fired_at IS NULL AND due_at <= :now")
            return (await conn.execute(query, {"now": instant})).scalar_one() == 0

    await eventually(none_left_due)
    await asyncio.sleep(0.3)  # the sweep that fired the last of them has committed its events


def reminder_at(day: dt.date, days_before: int) -> dt.datetime:
    return start_of_day(day - days_before * DAY, ZONE)


async def _counts(smtp_server, addresses, expected: list[int], about: list[uuid.UUID]):
    """Mails about these contracts only: role:contract_manager's address is this test's, but other
    tests' contracts remind that role too when the clock passes their dates."""
    ids = [str(c) for c in about]
    found = [sum(any(i in m["Subject"] for i in ids) for m in smtp_server.mailbox.to(a)) for a in addresses]
    assert found == expected, found
    return True


async def _stopped(scheduler, key: str) -> bool:
    async with scheduler.app.state.context.uow(actor="test") as uow:
        row = await store.series_of(uow.conn, key)
        return row is not None and row.stopped_at is not None


async def test_a_tacit_contract_is_reminded_before_cancel_by_renews_at_its_period_end_and_a_notice_expires_it(
        service_env, stack, smtp_server):
    contract_id = uuid.uuid4()
    run = contract_id.hex[:8]
    owners = [f"sales-{run}@example.com", f"legal-{run}@example.com"]
    manager = f"cm-{run}@example.com"
    everyone = [*owners, manager]
    clm = Clm(stack, contract_id)
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler:
        await asyncio.sleep(0.5)  # its loops read the notification settings of this environment
        scheduler.app.state.context.clock.set(AT)
        r = await scheduler.put("/api/v1/notification-subscriptions/role:contract_manager", json={"email": manager},
                                headers=bearer("sre"))
        assert r.status_code in (200, 201), r.text
        await clm.publish(terms_set(contract_id, owners=owners), activated(contract_id))

        planned = [(1, a, d, False, False) for a in ("cancel_by", "end") for d in (90, 60, 30, 0)] + [
            (1, "period_end", 0, False, False)]
        await eventually(lambda: _same(period_timers(scheduler, contract_id), planned), timeout=60)
        await eventually(lambda: _same(schedule_events(scheduler, contract_id), [("ExpiryScheduled", "2032-01-30")]))
        async with scheduler.app.state.context.engine.connect() as conn:  # the period end decides, not an expiry timer
            query = sa.text("SELECT count(*) FROM timers WHERE contract_id = :c AND fired_at IS NULL")
            assert (await conn.execute(query, {"c": contract_id})).scalar_one() == 0

        # 90 days before cancel-by (2 October, Berlin): not a minute early, then once to each owner.
        t90 = reminder_at(PERIOD_1.cancel_by, 90)
        await at_time(scheduler, t90 - 10 * MINUTE)
        assert await announced(scheduler, contract_id) == []
        await at_time(scheduler, t90)
        assert await announced(scheduler, contract_id) == [("ContractReminderDue", "cancel_by", 90, 1)]
        await eventually(lambda: _counts(smtp_server, everyone, [1, 1, 0], [contract_id]), timeout=30)
        [mail] = [m for m in smtp_server.mailbox.to(owners[0]) if str(contract_id) in m["Subject"]]
        assert "cancel-by date 2031-10-02 (period 1)" in mail["Subject"] and "in 90 days" in mail.get_content()

        # Unacknowledged it repeats after 7 days; the third occurrence reaches the contract manager too.
        scheduler.app.state.context.clock.set(t90 + 7 * DAY + 1 * MINUTE)
        await eventually(lambda: _counts(smtp_server, everyone, [2, 2, 0], [contract_id]), timeout=30)
        t60 = reminder_at(PERIOD_1.cancel_by, 60)
        scheduler.app.state.context.clock.set(t60 - 60 * MINUTE)
        await eventually(lambda: _counts(smtp_server, everyone, [3, 3, 1], [contract_id]), timeout=30)
        await at_time(scheduler, t60)
        await eventually(lambda: _counts(smtp_server, everyone, [4, 4, 2], [contract_id]), timeout=30)
        ours = [m for m in smtp_server.mailbox.to(manager) if str(contract_id) in m["Subject"]]
        assert "in 60 days" in ours[-1].get_content()

        # Acknowledged: the series stops and the cancel-by's 30 and 0 days never fire.
        await clm.publish(RenewalReminderAcknowledged(contract_id=contract_id, period_number=1, anchor="cancel_by",
                                                      acknowledged_by=owners[0], at=t60 + DAY))
        await eventually(lambda: _stopped(scheduler, f"contract_reminder:{contract_id}/1/cancel_by"))
        await eventually(lambda: _same(period_timers(scheduler, contract_id), [
            (1, "cancel_by", 90, True, False), (1, "cancel_by", 60, True, False),
            *[(1, "end", d, False, False) for d in (90, 60, 30, 0)], (1, "period_end", 0, False, False)]))
        await at_time(scheduler, reminder_at(PERIOD_1.cancel_by, 0) + DAY)
        await asyncio.sleep(1)
        await _counts(smtp_server, everyone, [4, 4, 2], [contract_id])

        # The end's reminders all due at once: only the latest (0 days) is announced. Then the period end.
        end = start_of_day(PERIOD_1.end_date + DAY, ZONE)
        await at_time(scheduler, end - 10 * MINUTE)
        assert (await announced(scheduler, contract_id))[2:] == [("ContractReminderDue", "end", 0, 1)]
        assert [t for t in await period_timers(scheduler, contract_id) if t[1] == "end"] == [
            (1, "end", 90, True, True), (1, "end", 60, True, True), (1, "end", 30, True, True),
            (1, "end", 0, True, False)]
        await at_time(scheduler, end)
        assert (await announced(scheduler, contract_id))[3:] == [("ContractPeriodEnded", None, None, 1)]
        assert await schedule_events(scheduler, contract_id) == [("ExpiryScheduled", "2032-01-30")]

        # clm renews: period 2's timers, the schedule's end moves, period 1's end series stops.
        await clm.publish(ContractRenewed(contract_id=contract_id, previous_end_date=PERIOD_1.end_date,
                                          period=PERIOD_2, renewals=1, at=end))
        await eventually(lambda: _same(schedule_events(scheduler, contract_id), [
            ("ExpiryScheduled", "2032-01-30"), ("ExpiryScheduled", "2033-01-30")]))
        timers = await eventually(lambda: _has(period_timers(scheduler, contract_id), (2, "period_end", 0, False, False)))
        assert len([t for t in timers if t[0] == 2]) == 9
        await eventually(lambda: _stopped(scheduler, f"contract_reminder:{contract_id}/1/end"))

        # A notice for period 2: no more reminders; at its end the contract expires instead of renewing.
        await clm.publish(TerminationNoticeGiven(contract_id=contract_id, period_number=2, given_on=dt.date(2032, 3, 1),
                                                 end_date=PERIOD_2.end_date, given_by=owners[1], at=end + 30 * DAY))
        await eventually(lambda: _same(_of_period(period_timers(scheduler, contract_id), 2),
                                       [(2, "period_end", 0, False, False)]))
        end_2 = start_of_day(PERIOD_2.end_date + DAY, ZONE)
        await at_time(scheduler, end_2 - 10 * MINUTE)
        assert await schedule_events(scheduler, contract_id) == [
            ("ExpiryScheduled", "2032-01-30"), ("ExpiryScheduled", "2033-01-30")]
        await at_time(scheduler, end_2)
        assert (await schedule_events(scheduler, contract_id))[2:] == [("ContractExpired", "2033-01-30")]
        assert [e[0] for e in await announced(scheduler, contract_id)].count("ContractPeriodEnded") == 1
        await eventually(lambda: _stopped(scheduler, f"contract_reminder:{contract_id}/ended"))


async def test_an_express_contract_expires_at_its_end_whichever_comes_first_of_its_terms_and_activation(
        service_env, stack):
    late_terms, early_terms, derived = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler:
        scheduler.app.state.context.clock.set(AT)
        # Activated first (an expiry timer is set), the terms after: the timer goes, the period end decides.
        await Clm(stack, late_terms).publish(activated(late_terms), terms_set(late_terms, renewal="express"))
        await Clm(stack, early_terms).publish(terms_set(early_terms, renewal="express"), activated(early_terms))
        # Terms clm derived at activation, express: the period end only, no reminders.
        await Clm(stack, derived).publish(activated(derived), terms_set(derived, renewal="express").model_copy(
            update={"origin": "executed_terms"}))
        await eventually(lambda: _same(period_timers(scheduler, derived), [(1, "period_end", 0, False, False)]), timeout=60)
        for contract_id in (late_terms, early_terms):
            await eventually(lambda: _has(period_timers(scheduler, contract_id), (1, "period_end", 0, False, False)),
                             timeout=60)

        async def no_expiry_timers():
            async with scheduler.app.state.context.engine.connect() as conn:
                query = sa.text("SELECT count(*) FROM timers WHERE contract_id = ANY(:c) AND fired_at IS NULL")
                return (await conn.execute(query, {"c": [late_terms, early_terms]})).scalar_one() == 0

        await eventually(no_expiry_timers)
        end = start_of_day(PERIOD_1.end_date + DAY, ZONE)
        await at_time(scheduler, end - 10 * MINUTE)
        await at_time(scheduler, end)
        for contract_id in (late_terms, early_terms):
            assert await schedule_events(scheduler, contract_id) == [
                ("ExpiryScheduled", "2032-01-30"), ("ContractExpired", "2032-01-30")]
            assert await announced(scheduler, contract_id) == [
                ("ContractReminderDue", "cancel_by", 0, 1), ("ContractReminderDue", "end", 0, 1)]


async def test_a_notice_taken_after_the_period_end_was_announced_expires_the_contract_at_once(service_env, stack):
    contract_id = uuid.uuid4()
    clm = Clm(stack, contract_id)
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler:
        scheduler.app.state.context.clock.set(AT)
        await clm.publish(terms_set(contract_id), activated(contract_id))
        await eventually(lambda: _has(period_timers(scheduler, contract_id), (1, "period_end", 0, False, False)),
                         timeout=60)
        end = start_of_day(PERIOD_1.end_date + DAY, ZONE)
        await at_time(scheduler, end)
        assert (await announced(scheduler, contract_id))[-1] == ("ContractPeriodEnded", None, None, 1)
        await clm.publish(TerminationNoticeGiven(contract_id=contract_id, period_number=1, given_on=PERIOD_1.end_date,
                                                 end_date=PERIOD_1.end_date, given_by="u-legal", at=end))
        await eventually(lambda: _same(schedule_events(scheduler, contract_id), [
            ("ExpiryScheduled", "2032-01-30"), ("ContractExpired", "2032-01-30")]), timeout=30)


async def test_two_replicas_announce_each_anchors_latest_due_reminder_once_and_mail_each_owner_once(
        service_env, stack, smtp_server):
    contracts = [uuid.uuid4() for _ in range(3)]
    owner = {c: f"owner-{c.hex[:8]}@example.com" for c in contracts}
    env = service_env("lifecycle_scheduler", **FAST)
    async with AsyncExitStack() as services:
        one = await services.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await services.enter_async_context(running_service("lifecycle_scheduler", env))
        await asyncio.sleep(0.5)
        for replica in (one, two):
            replica.app.state.context.clock.set(AT)
        for contract_id in contracts:
            await Clm(stack, contract_id).publish(terms_set(contract_id, owners=[owner[contract_id]]),
                                                  activated(contract_id))
        for contract_id in contracts:
            await eventually(lambda: _has(period_timers(one, contract_id), (1, "period_end", 0, False, False)),
                             timeout=60)
        # 90, 60 and 30 days before cancel-by are due at once on both replicas: only 30 is announced.
        later = reminder_at(PERIOD_1.cancel_by, 30) + 60 * MINUTE
        two.app.state.context.clock.set(later)
        await at_time(one, later)
        await asyncio.sleep(1.5)  # many more sweeps by both replicas
        for contract_id in contracts:
            assert await announced(one, contract_id) == [("ContractReminderDue", "cancel_by", 30, 1)]
            assert [(t[2], t[3], t[4]) for t in await period_timers(one, contract_id) if t[1] == "cancel_by"] == [
                (90, True, True), (60, True, True), (30, True, False), (0, False, False)]
        await eventually(lambda: _counts(smtp_server, owner.values(), [1, 1, 1], contracts), timeout=60)
        await asyncio.sleep(1)
        await _counts(smtp_server, owner.values(), [1, 1, 1], contracts)


async def _same(found, expected):
    found = await found
    assert found == expected, found
    return True


async def _has(found, row):
    found = await found
    assert row in found, found
    return found


async def _of_period(found, number: int):
    return [t for t in await found if t[0] == number]

