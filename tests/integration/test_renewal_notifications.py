"""Renewal tasks through the notification channel, on the real PostgreSQL, Kafka and SMTP server:
a vendor contract's renewal deadline opens its task, each owner is mailed once (a redelivered
event sends nothing more), the reminder repeats after NOTIFY_REPEAT_DAYS, completing the task stops
it; two replicas announce a deadline and mail it once; a moved end date or an ended contract
supersedes the task and replans or drops its deadlines."""

import asyncio
import datetime as dt
import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa

from shared.events.coverage import OperationalTerms, VendorContractTerms
from shared.events.envelope import Envelope
from shared.events.renewal_tasks import RenewalTaskOpened, renewal_task_id
from services.asset_coverage.application import registry
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.lifecycle_scheduler.adapters import deliveries as store
from services.lifecycle_scheduler.application import renewal_reminders
from tests.conftest import bearer, eventually, running_service, token

pytestmark = pytest.mark.integration

FAST = {"ALLOW_CLOCK_CONTROL": "true", "SCHEDULER_TICK_SECONDS": "0.2", "NOTIFY_SEND_TICK_SECONDS": "0.2",
        "NOTIFY_REPEAT_DAYS": "7", "NOTIFY_ESCALATE_AFTER": "10"}


async def _register_vendor_contract(asset_coverage, end_date: dt.date, owners: list[str]) -> uuid.UUID:
    """Through the registry, as the vendor contract API and the import register one."""
    suffix = uuid.uuid4().hex[:8]
    terms = VendorContractTerms(number=f"OPS-{suffix}", vendor="KUKA", vendor_contract_number=f"KV-{suffix}",
                                name=f"Robot maintenance {suffix}", contract_model="maintenance",
                                start_date=end_date - dt.timedelta(days=365), end_date=end_date)
    contract, _ = await registry.register_vendor_contract(asset_coverage.app.state.context.uow(actor="test"), terms,
                                                          OperationalTerms(owners=owners))
    return uuid.UUID(contract.id)


async def test_a_renewal_deadline_mails_each_owner_once_repeats_until_the_task_is_completed(service_env, smtp_server):
    run = uuid.uuid4().hex[:8]
    owners = [f"ot-lead-{run}@plant4.example", f"maintenance-{run}@plant4.example"]
    mails = lambda: {owner: smtp_server.mailbox.to(owner) for owner in owners}  # noqa: E731
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler:
        await asyncio.sleep(0.5)  # its loops read the notification settings of this environment
        async with running_service("asset_coverage", service_env("asset_coverage")) as asset_coverage:
            end = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
            contract_id = await _register_vendor_contract(asset_coverage, end, owners)
            task_id = renewal_task_id(contract_id, end)

            # 90, 60 and 30 days before the end are past: one mail (30 days), not three.
            received = await eventually(lambda: _each_has(mails, 1), timeout=60)
            # (a long Subject is folded after its colon: unfolded, its value starts with that space)
            assert all(m[0]["Subject"].strip().startswith(f"Renewal due by {end}: Renew Robot maintenance")
                       and "in 30 days as of this notice" in m[0].get_content() for m in received.values())
            r = await asset_coverage.get(f"/api/v1/renewal-tasks?contract_id={contract_id}", headers=bearer("sales"))
            [task] = r.json()["items"]
            assert (task["task_id"], task["state"], task["assignees"], task["deadlines"]) == (
                str(task_id), "open", owners, [30])
            r = await scheduler.get(f"/api/v1/contracts/{contract_id}/renewal-deadlines", headers=bearer("sales"))
            assert [(d["days_before"], d["fired_at"] is not None, d["skipped"]) for d in r.json()["deadlines"]] == [
                (90, True, True), (60, True, True), (30, True, False), (0, False, False)]

            # The same event again (as Kafka may redeliver it past the inbox): no new delivery, no new mail.
            opened = RenewalTaskOpened(task_id=task_id, contract_id=contract_id, end_date=end, days_before=30,
                                       title=task["title"], assignees=owners)
            ctx = scheduler.app.state.context
            async with ctx.uow(actor="test") as uow:
                await renewal_reminders.HANDLERS[RenewalTaskOpened](uow, Envelope(opened, stream_version=1))
                await uow.commit()
            series = f"renewal_task:{task_id}"

            async def one_sent_per_owner():  # sent is committed just after the send
                r = await scheduler.get(f"/api/v1/notification-deliveries?series_key={series}", headers=bearer("sre"))
                found = sorted((d["recipient"], d["state"]) for d in r.json()["items"])
                assert found == [(o, "sent") for o in sorted(owners)], found
                return True

            await eventually(one_sent_per_owner, timeout=10)

            ctx.clock.advance(dt.timedelta(days=7, hours=1))  # the reminder repeats while the task is open
            repeated = await eventually(lambda: _each_has(mails, 2), timeout=30)
            assert all(m[1]["Subject"].strip() == f"Reminder: {m[0]['Subject'].strip()}" for m in repeated.values())

            r = await asset_coverage.post(f"/api/v1/renewal-tasks/{task_id}/complete", json={"note": "not mine"},
                                          headers={"Authorization": f"Bearer {token('sales', subject='u-99')}"})
            assert (r.status_code, r.json()["rule"]) == (403, "renewal_task.not_assignee")
            by_owner = {"Authorization": f"Bearer {token('sales', subject=owners[0])}"}
            r = await asset_coverage.post(f"/api/v1/renewal-tasks/{task_id}/complete", json={"note": "renewed"},
                                          headers=by_owner)
            assert (r.status_code, r.json()["state"], r.json()["completed_by"]) == (200, "completed", owners[0])
            again = await asset_coverage.post(f"/api/v1/renewal-tasks/{task_id}/complete", json={"note": "renewed"},
                                              headers=by_owner)
            assert (again.status_code, again.json()["version"]) == (200, r.json()["version"])

            await eventually(lambda: _stopped(ctx, series), timeout=30)
            ctx.clock.advance(dt.timedelta(days=8))
            await asyncio.sleep(2)  # several sweeps
            assert {o: len(m) for o, m in mails().items()} == {o: 2 for o in owners}


async def _each_has(mails, count: int):
    found = mails()
    assert {o: len(m) for o, m in found.items()} == {o: count for o in found}
    return found


async def _stopped(ctx, series_key: str) -> bool:
    async with ctx.uow(actor="test") as uow:
        row = await store.series_of(uow.conn, series_key)
        return row is not None and row.stopped_at is not None


async def _deadline_events(engine, task_id: uuid.UUID) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text(
            "SELECT payload FROM events WHERE stream_id = :s AND event_type = 'RenewalDeadlineReached'"),
            {"s": str(task_id)})
        return [row.payload["days_before"] for row in rows]


async def test_two_replicas_announce_the_latest_due_deadline_once_and_mail_each_owner_once(service_env, smtp_server):
    run = uuid.uuid4().hex[:8]
    env = service_env("lifecycle_scheduler", **{**FAST, "SCHEDULER_TICK_SECONDS": "0.05", "NOTIFY_SEND_TICK_SECONDS": "0.05"})
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await stack.enter_async_context(running_service("lifecycle_scheduler", env))
        await asyncio.sleep(0.5)
        asset_coverage = await stack.enter_async_context(running_service("asset_coverage", service_env("asset_coverage")))
        end = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=100)
        owners = {i: f"owner-{run}-{i}@plant4.example" for i in range(4)}
        contracts = [await _register_vendor_contract(asset_coverage, end, [owners[i]]) for i in owners]
        tasks = [renewal_task_id(c, end) for c in contracts]

        async def planned():
            for contract_id in contracts:
                r = await one.get(f"/api/v1/contracts/{contract_id}/renewal-deadlines", headers=bearer("sre"))
                assert len(r.json()["deadlines"]) == 4
            return True

        await eventually(planned)
        engine = one.app.state.context.engine
        assert [await _deadline_events(engine, t) for t in tasks] == [[]] * 4  # none due yet
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=71)  # 90, 60 and 30 days before the end: due at once
        for replica in (one, two):
            replica.app.state.context.clock.set(later)

        async def announced():
            return all([await _deadline_events(engine, t) for t in tasks])

        await eventually(announced)
        await eventually(lambda: _all_mailed(smtp_server, owners.values()), timeout=60)
        await asyncio.sleep(1.5)  # many more sweeps by both replicas
        assert [await _deadline_events(engine, t) for t in tasks] == [[30]] * 4
        assert [len(smtp_server.mailbox.to(o)) for o in owners.values()] == [1] * 4


async def _all_mailed(smtp_server, owners) -> bool:
    return all(smtp_server.mailbox.to(o) for o in owners)


async def test_a_moved_end_date_supersedes_the_task_and_plans_the_new_period_and_an_ended_contract_drops_it(
        service_env, smtp_server):
    owner = f"ot-lead-{uuid.uuid4().hex[:8]}@plant4.example"
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler:
        await asyncio.sleep(0.5)
        async with running_service("asset_coverage", service_env("asset_coverage")) as asset_coverage:
            end = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
            contract_id = await _register_vendor_contract(asset_coverage, end, [owner])
            await eventually(lambda: _mailed(smtp_server, owner), timeout=60)

            async def tasks():
                r = await asset_coverage.get(f"/api/v1/renewal-tasks?contract_id={contract_id}", headers=bearer("sales"))
                return {t["end_date"]: (t["state"], t["superseded_because"]) for t in r.json()["items"]}

            async def deadlines():
                r = await scheduler.get(f"/api/v1/contracts/{contract_id}/renewal-deadlines", headers=bearer("sales"))
                return {(d["end_date"], d["days_before"]): d["fired_at"] is not None for d in r.json()["deadlines"]}

            moved = end + dt.timedelta(days=180)
            async with asset_coverage.app.state.context.uow(actor="test") as uow:
                terms = (await uow.get(OperationalContract, str(contract_id))).vendor_terms
            await registry.revise_terms(asset_coverage.app.state.context.uow(actor="test"), contract_id,
                                        terms.model_copy(update={"end_date": moved}))

            async def superseded_and_replanned():
                assert await tasks() == {end.isoformat(): ("superseded", "end_date_moved")}
                assert await deadlines() == {
                    **{(end.isoformat(), d): True for d in (90, 60, 30)},  # the old period's fired ones stay
                    **{(moved.isoformat(), d): False for d in (90, 60, 30, 0)}}
                return True

            await eventually(superseded_and_replanned, timeout=30)
            series = f"renewal_task:{renewal_task_id(contract_id, end)}"
            await eventually(lambda: _stopped(scheduler.app.state.context, series), timeout=30)

            await registry.cancel_contract(asset_coverage.app.state.context.uow(actor="test"), contract_id,
                                           dt.datetime.now(dt.UTC).date(), "plant closed")

            async def dropped():  # the new period's unfired deadlines are gone; what fired stays
                return await deadlines() == {(end.isoformat(), d): True for d in (90, 60, 30)}

            await eventually(dropped, timeout=30)
            assert len(smtp_server.mailbox.to(owner)) == 1


async def _mailed(smtp_server, address: str) -> bool:
    return bool(smtp_server.mailbox.to(address))
