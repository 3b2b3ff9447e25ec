"""Obligations on the real PostgreSQL, Kafka and SMTP server: an obligation recorded over HTTP
reaches the scheduler, whose timers mail its owners when an occurrence falls due, then when it is
overdue, again after OBLIGATION_OVERDUE_REPEAT_DAYS and, from OBLIGATION_ESCALATE_AFTER on, the
contract manager's subscription too; completing it with an evidence file stops the notices and
moves the timers to the next occurrence. A contract executed with payment_days in its terms
carries a payment obligation."""

import asyncio
import datetime as dt
import hashlib
import uuid

import pytest
import sqlalchemy as sa

from services.clm.application.obligations import payment_obligation_id
from services.clm.domain.contract import Contract
from tests.conftest import bearer, eventually, running_service, token
from tests.signing_flow import CM as CM_CARLA, approved_contract, links_to, sign, signers

pytestmark = pytest.mark.integration

FAST = {"ALLOW_CLOCK_CONTROL": "true", "SCHEDULER_TICK_SECONDS": "0.1", "NOTIFY_SEND_TICK_SECONDS": "0.1",
        "OBLIGATION_OVERDUE_REPEAT_DAYS": "3", "OBLIGATION_ESCALATE_AFTER": "2"}
UTC = dt.UTC
D = dt.date
PDF = b"%PDF-1.4\n% the SLA report as sent\n%%EOF\n"


def _headers(subject: str, *roles: str) -> dict:
    return {"Authorization": f"Bearer {token(*roles, subject=subject)}"}


async def _timers(scheduler, obligation_id) -> list[tuple]:
    async with scheduler.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text(
            "SELECT due_on, mark, number, due_at, fired_at IS NOT NULL AS fired FROM obligation_timers "
            "WHERE obligation_id = :id ORDER BY due_at, mark, number"), {"id": obligation_id})
        return [tuple(r) for r in rows]


def _mails(smtp_server, address: str, count: int, about: str = ""):
    """An async check for `eventually`: the mails to `address` (whose subject names `about`) once
    `count` arrived. A role's address gets other tests' escalations too while a clock runs ahead."""
    async def arrived():
        found = _about(smtp_server, address, about)
        return found if len(found) >= count else None
    return arrived


def _about(smtp_server, address: str, about: str) -> list:
    return [m for m in smtp_server.mailbox.to(address) if about in m["Subject"]]


async def _at(scheduler, instant: dt.datetime) -> None:
    """Moves the scheduler's time and waits until its loop fired every obligation timer due by then."""
    ctx = scheduler.app.state.context
    ctx.clock.set(instant)

    async def none_left_due():
        async with ctx.engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM obligation_timers WHERE fired_at IS NULL AND due_at <= :now")
            assert (await conn.execute(query, {"now": instant})).scalar_one() == 0
        return True

    await eventually(none_left_due)
    await asyncio.sleep(0.3)  # the sweep that fired the last of them has committed its events


async def test_an_obligation_falls_due_goes_overdue_repeats_escalates_and_completion_stops_it(service_env, smtp_server):
    run = uuid.uuid4().hex[:8]
    ann, bob, carla = f"ann-{run}@vendor.example", f"bob-{run}@vendor.example", f"carla-{run}@vendor.example"
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler, \
            running_service("clm", service_env("clm")) as clm:
        scheduler.app.state.context.clock.set(dt.datetime(2027, 1, 1, tzinfo=UTC))
        r = await scheduler.put("/api/v1/notification-subscriptions/role:contract_manager", headers=bearer("sre"),
                                json={"email": carla})
        assert r.status_code == 200, r.text
        contract_id = str(uuid.uuid4())
        r = await clm.post("/api/v1/contracts", headers=bearer("contract_manager"), json={
            "contract_id": contract_id, "title": f"SLA {run}", "parties": [{"role": "customer", "name": "ACME"}],
            "start_date": "2027-01-01", "end_date": "2027-12-31", "time_zone": "Europe/Berlin"})
        assert r.status_code == 201, r.text

        url = f"/api/v1/contracts/{contract_id}/obligations"
        body = {"obligation_id": str(uuid.uuid4()), "kind": "report", "description": f"Monthly SLA report {run}",
                "owners": [ann, bob], "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=10;COUNT=3", "start": "2027-01-01"},
                "source_clause": "7.2"}
        for refused, rule in (({**body, "due_date": "2027-02-01"}, "obligation.due_date_or_recurrence"),
                              ({**body, "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2",
                                                       "start": "2027-01-01"}}, "obligation.rrule_empty"),
                              ({**body, "recurrence": {"rrule": "FREQ=SOMETIMES", "start": "2027-01-01"}},
                               "obligation.rrule_invalid")):
            r = await clm.post(url, headers=bearer("sales"), json=refused)
            assert (r.status_code, r.json()["rule"]) == (422, rule), r.text
        assert (await clm.post(url, headers=bearer("sales_ops"), json=body)).status_code == 403
        assert (await clm.post(f"/api/v1/contracts/{uuid.uuid4()}/obligations", headers=bearer("sales"),
                               json=body)).status_code == 404
        r = await clm.post(url, headers=bearer("sales"), json=body)
        assert r.status_code == 201, r.text
        obligation_id = body["obligation_id"]
        assert r.headers["location"] == f"/api/v1/obligations/{obligation_id}"
        assert r.json()["time_zone"] == "Europe/Berlin"
        assert [(o["due_on"], o["state"]) for o in r.json()["occurrences"]] == [
            ("2027-01-10", "upcoming"), ("2027-02-10", "upcoming"), ("2027-03-10", "upcoming")]
        again = await clm.post(url, headers=bearer("sales"), json=body)
        assert again.status_code == 200 and again.json()["version"] == 1
        other = await clm.post(url, headers=bearer("sales"), json={**body, "description": "other"})
        assert (other.status_code, other.json()["rule"]) == (409, "obligation.already_exists")
        listed = (await clm.get(url, headers=bearer("finance"))).json()
        assert [o["obligation_id"] for o in listed["items"]] == [obligation_id]

        # The scheduler times the first occurrence: the start of 10 January in Berlin.
        first_due = dt.datetime(2027, 1, 9, 23, 0, tzinfo=UTC)
        await eventually(lambda: _timers(scheduler, obligation_id), timeout=60)
        assert await _timers(scheduler, obligation_id) == [(dt.date(2027, 1, 10), "due", 0, first_due, False)]
        await _at(scheduler, first_due - dt.timedelta(minutes=5))
        await asyncio.sleep(0.5)
        assert smtp_server.mailbox.to(ann) == []  # not yet

        await _at(scheduler, first_due + dt.timedelta(seconds=30))
        due_mails = [m for o in (ann, bob) for m in await eventually(_mails(smtp_server, o, 1))]
        assert all(m["Subject"].strip() == f"Obligation due 2027-01-10: Monthly SLA report {run}" for m in due_mails)
        assert _about(smtp_server, carla, run) == []
        # The occurrence's overdue timer and the next occurrence's due timer.
        assert [t[:3] + (t[4],) for t in await _timers(scheduler, obligation_id)] == [
            (dt.date(2027, 1, 10), "due", 0, True), (dt.date(2027, 1, 10), "overdue", 1, False),
            (dt.date(2027, 2, 10), "due", 0, False)]

        await _at(scheduler, dt.datetime(2027, 1, 10, 23, 0, 30, tzinfo=UTC))  # overdue 1: owners only
        await eventually(_mails(smtp_server, ann, 2))
        await eventually(_mails(smtp_server, bob, 2))
        assert smtp_server.mailbox.to(ann)[1]["Subject"].strip() == f"Overdue since 2027-01-10: Monthly SLA report {run}"
        assert _about(smtp_server, carla, run) == []

        await _at(scheduler, dt.datetime(2027, 1, 13, 23, 0, 30, tzinfo=UTC))  # overdue 2: escalated
        [escalation] = await eventually(_mails(smtp_server, carla, 1, run))
        assert "Escalated to the accountable contract manager" in escalation.get_content()
        await eventually(_mails(smtp_server, ann, 3))

        # Completion: not by someone else, not on a day that is no occurrence; by an owner with evidence.
        completion = f"/api/v1/obligations/{obligation_id}/occurrences/2027-01-10/completion"
        note = "Report sent on 14 January"
        form = {"note": (None, note)}  # multipart fields, as curl -F sends them
        with_evidence = {**form, "evidence": ("sla-report.pdf", PDF, "application/pdf")}
        r = await clm.post(completion, headers=bearer("sales"), files=form)
        assert (r.status_code, r.json()["rule"]) == (403, "obligation.not_owner")
        r = await clm.post(f"/api/v1/obligations/{obligation_id}/occurrences/2027-01-11/completion",
                           headers=_headers(ann, "sales"), files=form)
        assert (r.status_code, r.json()["rule"]) == (422, "obligation.not_an_occurrence")
        r = await clm.post(completion, headers=_headers(ann, "sales"),
                           files={**form, "evidence": ("x.exe", b"MZ", "application/x-msdownload")})
        assert (r.status_code, r.json()["rule"]) == (422, "obligation.evidence_media_type")
        r = await clm.post(completion, headers=_headers(ann, "sales"), files=with_evidence)
        assert r.status_code == 200, r.text
        done = next(o for o in r.json()["occurrences"] if o["due_on"] == "2027-01-10")
        assert (done["state"], done["note"], done["completed_by"]) == ("completed", note, ann)
        assert done["evidence"]["sha256"] == hashlib.sha256(PDF).hexdigest()
        retried = await clm.post(completion, headers=_headers(bob, "sales"), files={"note": (None, "again")})
        assert retried.status_code == 200 and retried.json()["version"] == r.json()["version"]
        evidence = await clm.get(f"/api/v1/obligations/{obligation_id}/occurrences/2027-01-10/evidence",
                                 headers=bearer("legal_counsel"))
        assert (evidence.status_code, evidence.content, evidence.headers["content-type"]) == (200, PDF, "application/pdf")

        # The scheduler drops the occurrence's unfired overdue timer: no notice 3 on the 16th.
        async def overdue_3_dropped():
            return (dt.date(2027, 1, 10), "overdue", 3) not in [t[:3] for t in await _timers(scheduler, obligation_id)]

        await eventually(overdue_3_dropped, timeout=60)
        await _at(scheduler, dt.datetime(2027, 1, 16, 23, 0, 30, tzinfo=UTC))
        await asyncio.sleep(1.0)
        assert len(smtp_server.mailbox.to(ann)) == 3 and len(_about(smtp_server, carla, run)) == 1

        # Cancellation drops the next occurrence's due timer.
        r = await clm.post(f"/api/v1/obligations/{obligation_id}/cancellation", headers=bearer("contract_manager"),
                           json={"reason": "contract ended early"})
        assert r.status_code == 200 and r.json()["canceled"]

        async def all_dropped():
            return [t[:3] for t in await _timers(scheduler, obligation_id) if not t[4]] == []

        await eventually(all_dropped, timeout=60)


async def test_a_contract_executed_with_payment_days_carries_a_payment_obligation(service_env, smtp_server):
    env = service_env("clm", SIGNING_BASE_URL="http://test", SIGNING_MAIL_TICK_SECONDS="0.2")
    async with running_service("clm", env) as clm:
        installed = await clm.post("/api/v1/library/starter", headers=CM_CARLA)
        assert installed.status_code == 200, installed.text
        contract_id = await approved_contract(clm)
        async with clm.app.state.context.uow() as uow:
            contract = await uow.require(Contract, contract_id, "contract")
            days = contract.negotiated_terms.payment_days
        assert days  # the template's payment_days (30)
        people = signers("Anna")
        deadline = (dt.datetime.now(UTC) + dt.timedelta(days=10)).isoformat()
        r = await clm.post(f"/api/v1/contracts/{contract_id}/signature", headers=CM_CARLA,
                           json={"signers": people, "deadline": deadline})
        assert r.status_code == 201, r.text
        (link,) = await links_to(smtp_server, people[0]["email"])
        assert (await sign(clm, link, "Anna")).status_code == 200

        r = await clm.get(f"/api/v1/contracts/{contract_id}/obligations", headers=bearer("finance"))
        [payment] = r.json()["items"]
        assert payment["obligation_id"] == str(payment_obligation_id(uuid.UUID(contract_id)))
        async with clm.app.state.context.uow() as uow:
            start = (await uow.require(Contract, contract_id, "contract")).contract_dates[0]
        assert (payment["kind"], payment["origin"], payment["owners"], payment["due_date"]) == (
            "payment", "executed_terms", ["role:finance"], (start + dt.timedelta(days=days)).isoformat())


async def test_after_downtime_each_occurrence_falls_due_once_and_only_its_latest_overdue_notice_is_sent(
        service_env, smtp_server):
    run = uuid.uuid4().hex[:8]
    owner = f"dora-{run}@vendor.example"
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", **FAST)) as scheduler, \
            running_service("clm", service_env("clm")) as clm:
        scheduler.app.state.context.clock.set(dt.datetime(2027, 1, 1, tzinfo=UTC))
        contract_id = str(uuid.uuid4())
        r = await clm.post("/api/v1/contracts", headers=bearer("contract_manager"), json={
            "contract_id": contract_id, "title": f"Audit {run}", "parties": [{"role": "customer", "name": "ACME"}],
            "start_date": "2027-01-01", "end_date": "2027-12-31"})
        assert r.status_code == 201, r.text
        r = await clm.post(f"/api/v1/contracts/{contract_id}/obligations", headers=bearer("legal_counsel"), json={
            "kind": "audit", "description": f"Weekly site audit {run}", "owners": [owner],
            "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=3", "start": "2027-01-04"}})
        assert r.status_code == 201, r.text
        obligation_id = r.json()["obligation_id"]
        timers = f"/api/v1/obligations/{obligation_id}/timers"

        async def timed():
            r = await scheduler.get(timers, headers=bearer("sales"))
            return r.status_code == 200 and r.json()["timers"]

        assert [(t["due_on"], t["mark"]) for t in await eventually(timed, timeout=60)] == [("2027-01-04", "due")]

        # Down from 1 to 20 January (UTC): occurrences 4, 11 and 18 January each fall due once; the
        # overdue notices of each are the latest only: 6 (5, 8, ..., 20 Jan), 3 (12, 15, 18) and 1 (19).
        await _at(scheduler, dt.datetime(2027, 1, 20, 0, 0, 30, tzinfo=UTC))
        mails = await eventually(_mails(smtp_server, owner, 6))
        await asyncio.sleep(1.0)
        assert sorted(m["Subject"].strip().split(":")[0] for m in smtp_server.mailbox.to(owner)) == [
            "Obligation due 2027-01-04", "Obligation due 2027-01-11", "Obligation due 2027-01-18",
            "Overdue since 2027-01-04", "Overdue since 2027-01-11", "Overdue since 2027-01-18"]
        assert len(mails) == 6
        async with scheduler.app.state.context.engine.connect() as conn:
            rows = await conn.execute(sa.text(
                "SELECT payload FROM events WHERE stream_id = :s AND event_type = 'ObligationOverdue' ORDER BY position"),
                {"s": f"obligation-dates:{obligation_id}"})
            overdue = [(p["due_on"], p["number"], p["escalated"]) for (p,) in rows]
        assert sorted(overdue) == [("2027-01-04", 6, True), ("2027-01-11", 3, True), ("2027-01-18", 1, False)]
        listed = (await scheduler.get(timers, headers=bearer("sales"))).json()["timers"]
        assert [(t["due_on"], t["number"]) for t in listed if t["fired_at"] is None] == [
            ("2027-01-11", 4), ("2027-01-18", 2), ("2027-01-04", 7)]  # the 21st, 22nd and 23rd


async def test_a_tacit_contracts_period_carries_a_notice_obligation_met_by_a_termination_notice(service_env):
    from shared.events.envelope import Envelope
    from shared.events.renewal_terms import (
        ContractPeriod, ContractRenewed, RenewalTerms, RenewalTermsSet, TerminationNoticeGiven,
    )
    from services.clm.application import notice_obligations

    async with running_service("clm", service_env("clm")) as clm:
        contract_id = uuid.uuid4()
        at = dt.datetime(2027, 1, 1, tzinfo=UTC)
        terms = RenewalTerms(initial_term="P12M", renewal="tacit", notice_period="P90D", lead_time="P30D",
                             owners=["ann@vendor.example", "role:sales"])
        period_1 = ContractPeriod(number=1, start_date=D(2027, 1, 1), end_date=D(2027, 12, 31),
                                  notice_deadline=D(2027, 10, 2), cancel_by=D(2027, 9, 2))
        period_2 = ContractPeriod(number=2, start_date=D(2028, 1, 1), end_date=D(2028, 12, 31),
                                  notice_deadline=D(2028, 10, 2), cancel_by=D(2028, 9, 2))
        events = [
            RenewalTermsSet(contract_id=contract_id, terms=terms, start_date=D(2027, 1, 1), time_zone="Europe/Berlin",
                            period=period_1, set_by="cm", at=at),
            RenewalTermsSet(contract_id=contract_id, terms=terms, start_date=D(2027, 1, 1), time_zone="Europe/Berlin",
                            period=period_1, set_by="cm", at=at),  # redelivered, or set again alike: nothing new
            ContractRenewed(contract_id=contract_id, previous_end_date=D(2027, 12, 31), period=period_2, renewals=1,
                            at=dt.datetime(2028, 1, 1, tzinfo=UTC)),
            TerminationNoticeGiven(contract_id=contract_id, period_number=2, given_on=D(2028, 8, 1),
                                   end_date=D(2028, 12, 31), given_by="cm-carla", at=dt.datetime(2028, 8, 1, tzinfo=UTC)),
        ]
        ctx = clm.app.state.context
        for number, event in enumerate(events, 1):
            async with ctx.uow(actor="test") as uow:
                await notice_obligations.HANDLERS[type(event)](uow, Envelope(event, stream_version=number))
                await uow.commit()

        async with ctx.engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT obligation_id FROM obligations WHERE contract_id = :c"),
                                      {"c": contract_id})
            ids = {r.obligation_id for r in rows}
        first, second = (notice_obligations.notice_obligation_id(contract_id, p) for p in (period_1, period_2))
        assert ids == {first, second}
        views = {i: (await clm.get(f"/api/v1/obligations/{i}", headers=bearer("sales"))).json() for i in ids}
        assert [(v["kind"], v["due_date"], v["owners"], v["origin"]) for v in (views[first], views[second])] == [
            ("notice", "2027-09-02", ["ann@vendor.example", "role:sales"], "executed_terms"),
            ("notice", "2028-09-02", ["ann@vendor.example", "role:sales"], "executed_terms")]
        [met] = views[second]["occurrences"]
        assert (met["due_on"], met["state"], met["completed_by"]) == ("2028-09-02", "completed", "cm-carla")
        assert "termination notice given on 2028-08-01" in met["note"]
        # Period 1's, never completed, was settled by the renewal: canceled, so it stops reminding.
        assert views[first]["canceled"] and views[first]["occurrences"][0]["state"] != "completed"


async def test_terms_set_again_replace_the_notice_obligation_and_express_terms_cancel_it(service_env):
    from shared.events.envelope import Envelope
    from shared.events.renewal_terms import ContractPeriod, RenewalTerms, RenewalTermsSet
    from services.clm.application import notice_obligations

    async with running_service("clm", service_env("clm")) as clm:
        contract_id = uuid.uuid4()
        at = dt.datetime(2027, 1, 1, tzinfo=UTC)
        tacit = RenewalTerms(initial_term="P12M", renewal="tacit", notice_period="P90D", owners=["role:sales"])
        period = ContractPeriod(number=1, start_date=D(2027, 1, 1), end_date=D(2027, 12, 31),
                                notice_deadline=D(2027, 10, 2), cancel_by=D(2027, 10, 2))
        shorter = period.model_copy(update={"notice_deadline": D(2027, 12, 1), "cancel_by": D(2027, 11, 1)})

        def terms_set(terms, p):
            return RenewalTermsSet(contract_id=contract_id, terms=terms, start_date=D(2027, 1, 1), time_zone="UTC",
                                   period=p, set_by="cm", at=at)

        ctx = clm.app.state.context
        for number, event in enumerate([terms_set(tacit, period), terms_set(tacit, shorter),
                                        terms_set(tacit.model_copy(update={"renewal": "express"}), shorter)], 1):
            async with ctx.uow(actor="test") as uow:
                await notice_obligations.HANDLERS[RenewalTermsSet](uow, Envelope(event, stream_version=number))
                await uow.commit()
            async with ctx.engine.connect() as conn:  # no contract of that id: the index, not the route
                rows = await conn.execute(sa.text("SELECT due_date, canceled_at IS NOT NULL AS canceled FROM obligations "
                                                  "WHERE contract_id = :c"), {"c": contract_id})
                states = sorted((r.due_date.isoformat(), r.canceled) for r in rows)
            assert states == [
                [("2027-10-02", False)],
                [("2027-10-02", True), ("2027-11-01", False)],  # dated anew: the stale one canceled
                [("2027-10-02", True), ("2027-11-01", True)],  # express: no notice obligation
            ][number - 1]


async def test_acknowledging_the_cancel_by_reminders_meets_the_periods_notice_obligation(service_env):
    from shared.events.envelope import Envelope
    from shared.events.renewal_terms import ContractPeriod, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet
    from services.clm.application import notice_obligations

    async with running_service("clm", service_env("clm")) as clm:
        contract_id = uuid.uuid4()
        at = dt.datetime(2027, 1, 1, tzinfo=UTC)
        period = ContractPeriod(number=1, start_date=D(2027, 1, 1), end_date=D(2027, 12, 31),
                                notice_deadline=D(2027, 10, 2), cancel_by=D(2027, 9, 2))
        terms = RenewalTerms(initial_term="P12M", renewal="tacit", notice_period="P90D", lead_time="P30D",
                             owners=["ann@vendor.example"])

        def acknowledged(anchor: str) -> RenewalReminderAcknowledged:
            return RenewalReminderAcknowledged(contract_id=contract_id, period_number=1, anchor=anchor,
                                               note="we keep it", acknowledged_by="ann@vendor.example", at=at)

        events = [RenewalTermsSet(contract_id=contract_id, terms=terms, start_date=D(2027, 1, 1), time_zone="UTC",
                                  period=period, set_by="cm", at=at), acknowledged("end")]
        ctx = clm.app.state.context
        obligation = notice_obligations.notice_obligation_id(contract_id, period)

        async def apply(number: int, event) -> dict:
            async with ctx.uow(actor="test") as uow:
                await notice_obligations.HANDLERS[type(event)](uow, Envelope(event, stream_version=number))
                await uow.commit()
            [occurrence] = (await clm.get(f"/api/v1/obligations/{obligation}", headers=bearer("sales"))).json()["occurrences"]
            return occurrence

        for number, event in enumerate(events, 1):
            assert (await apply(number, event))["state"] != "completed"  # the end's reminders are another matter
        met = await apply(3, acknowledged("cancel_by"))
        assert (met["due_on"], met["state"], met["completed_by"]) == ("2027-09-02", "completed", "ann@vendor.example")
        assert met["note"] == "acknowledged by ann@vendor.example: we keep it"
        assert (await apply(4, acknowledged("cancel_by")))["note"] == met["note"]  # redelivered: nothing new
