"""Renewal terms (phase 7, clm) on real PostgreSQL and Kafka: terms set over HTTP before activation
(the e2e case: a tacit 12-month contract, 90 days' notice, 30 days' lead time: cancel-by of periods 1
and 3), locked after it; ContractPeriodEnded from the scheduler's topic (redelivered) renews the
contract exactly once; a termination notice after the deadline, in the contract's zone, is refused
naming the deadline and the next possible end; reminders acknowledged by an owner, once; without
terms, activation derives them from the executed terms. Every event reaches clm.contracts.v1."""

import asyncio
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from shared.backbone.tables import events as event_table
from shared.events import topics
from shared.events.contract_periods import ContractPeriodEnded
from shared.events.envelope import Envelope, from_kafka
from services.clm.domain.contract import Contract
from services.clm.domain.contract.readiness import CatalogueCopy
from services.clm.domain.renewal_terms import start_of_day
from tests.activation_story import AT, GOLD, ONSITE, executed_contract
from tests.conftest import bearer, eventually, running_service
from tests.events_factory import approved_quote
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

ZONE = "Europe/Berlin"
MAPPED = {"SUP-PREM": CatalogueCopy("SUP-PREM", 1, "Premium support", GOLD),
          "ONSITE": CatalogueCopy("ONSITE", 1, "Onsite service", ONSITE)}
READER, SALES, MANAGER, SRE = bearer("finance"), bearer("sales"), bearer("contract_manager"), bearer("sre")
TERMS = {"initial_term": "P12M", "renewal_term": "P12M", "renewal": "tacit", "notice_period": "P90D",
         "lead_time": "P30D", "owners": ["ann@example.com", "role:sales"]}


def local(*args) -> str:
    return dt.datetime(*args, tzinfo=ZoneInfo(ZONE)).isoformat()


async def stored(clm, contract: Contract) -> None:
    async with clm.app.state.context.uow() as uow:
        uow.add(contract)
        await uow.commit()


async def activated(clm, cid: uuid.UUID) -> None:
    """The start date came (as ContractStartReached does it), on the real database."""
    async with clm.app.state.context.uow() as uow:
        contract = await uow.get(Contract, str(cid))
        contract.start_reached(MAPPED, at=AT, by="clm.activation")
        assert contract.state == "active", contract.blocked
        await uow.commit()


async def stream_types(clm, stream_id: str) -> list[str]:
    async with clm.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.select(event_table.c.event_type).where(event_table.c.stream_id == stream_id)
                                  .order_by(event_table.c.version))
        return list(rows.scalars())


async def on_topic(stack, topic: str, key: str, until, timeout: float = 60) -> list[Envelope]:
    found: list[Envelope] = []
    consumer = AIOKafkaConsumer(topic, **stack.kafka_admin.options(), group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            while not until(found):
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    # Only this contract's: other tests publish on the topic too (forged events among them).
                    found += [from_kafka(m.headers, m.key, m.value) for m in messages if m.key == key.encode()]
    finally:
        await consumer.stop()
    return found


def one_year_quote():
    quote = approved_quote()
    first, second = quote.lines
    return quote.model_copy(update={"term_months": 12, "lines": [
        first.model_copy(update={"end_date": dt.date(2027, 12, 31)}), second]})


async def set_clock(clm, instant: str) -> None:
    r = await clm.put("/api/v1/ops/clock", json={"now": instant}, headers=SRE)
    assert r.status_code == 200, r.text


async def test_terms_periods_renewal_notice_and_acknowledgement_over_http_and_kafka(service_env, stack):
    contract = executed_contract(one_year_quote(), start=dt.date(2027, 1, 1), end=dt.date(2027, 12, 31))
    cid = contract.contract_uuid
    url = f"/api/v1/contracts/{cid}"
    async with running_service("clm", service_env("clm", ALLOW_CLOCK_CONTROL="true")) as clm:
        await stored(clm, contract)
        assert (await clm.get(f"{url}/renewal-terms", headers=READER)).status_code == 404

        assert (await clm.put(f"{url}/renewal-terms", json=TERMS, headers=READER)).status_code == 403
        bad = await clm.put(f"{url}/renewal-terms", json={**TERMS, "notice_period": "PT90H"}, headers=SALES)
        assert (bad.status_code, bad.json()["rule"]) == (422, "renewal_terms.duration_invalid")
        mismatch = await clm.put(f"{url}/renewal-terms", json={**TERMS, "initial_term": "P6M"}, headers=SALES)
        assert (mismatch.status_code, mismatch.json()["rule"]) == (422, "renewal_terms.initial_term_mismatch")

        put = await clm.put(f"{url}/renewal-terms?periods=3", json=TERMS, headers=SALES)
        assert put.status_code == 200, put.text
        first, _, third = put.json()["periods"]
        assert (first["end_date"], first["notice_deadline"], first["cancel_by"]) == ("2027-12-31", "2027-10-02", "2027-09-02")
        assert (third["number"], third["end_date"], third["notice_deadline"], third["cancel_by"]) == (
            3, "2029-12-31", "2029-10-02", "2029-09-02")
        assert put.headers["ETag"] == f'"{put.json()["version"]}"'

        await activated(clm, cid)
        locked = await clm.put(f"{url}/renewal-terms", json={**TERMS, "notice_period": "P30D"}, headers=MANAGER)
        assert (locked.status_code, locked.json()["rule"]) == (409, "renewal_terms.locked_after_activation")
        shown = (await clm.get(f"{url}/renewal-terms", headers=READER)).json()
        assert (shown["origin"], shown["current_period"]["number"], shown["time_zone"]) == ("manual", 1, ZONE)

        # the notice deadline of period 1 passed in Berlin (2027-10-03 00:30 there, still the 2nd in UTC)
        await set_clock(clm, local(2027, 10, 3, 0, 30))
        late = await clm.post(f"{url}/termination-notice", json={"reason": "too late"}, headers=MANAGER)
        assert (late.status_code, late.json()["rule"]) == (409, "termination.after_notice_deadline")
        assert "2027-10-02" in late.json()["detail"] and late.json()["next_possible_end"] == "2028-12-31"

        not_owner = await clm.post(f"{url}/renewal-reminders/acknowledge", headers=READER,
                                   json={"period_number": 1, "anchor": "cancel_by"})
        assert (not_owner.status_code, not_owner.json()["rule"]) == (403, "renewal_reminders.not_an_owner")
        for _ in range(2):  # the second answers 200 and changes nothing
            ack = await clm.post(f"{url}/renewal-reminders/acknowledge", headers=SALES,
                                 json={"period_number": 1, "anchor": "cancel_by", "note": "asking finance"})
            assert ack.status_code == 200, ack.text
        assert [(a["anchor"], a["acknowledged_by"]) for a in ack.json()["acknowledgements"]] == [("cancel_by", "tester")]  # bearer's subject

        ended = Envelope(ContractPeriodEnded(contract_id=cid, period_number=1, end_date=dt.date(2027, 12, 31),
                                             reached_at=start_of_day(dt.date(2028, 1, 1), ZONE)), 1)
        await publish(stack.kafka_admin, [ended, ended])  # and redelivered

        async def renewed():
            r = (await clm.get(f"{url}/renewal-terms", headers=READER)).json()
            return r if r["current_period"]["number"] == 2 else None

        now = await eventually(renewed, timeout=60)
        assert (now["renewals"], now["current_period"]["end_date"], now["current_period"]["notice_deadline"]) == (
            1, "2028-12-31", "2028-10-02")

        # period 2: on its deadline day, late evening in Berlin, notice is still accepted
        await set_clock(clm, local(2028, 10, 2, 23, 0))
        given = await clm.post(f"{url}/termination-notice", json={"reason": "budget"}, headers=MANAGER)
        assert given.status_code == 200, given.text
        notice = given.json()["termination_notice"]
        assert (notice["period_number"], notice["given_on"], notice["end_date"]) == (2, "2028-10-02", "2028-12-31")
        again = await clm.post(f"{url}/termination-notice", json={}, headers=MANAGER)
        assert (again.status_code, again.json()["rule"]) == (409, "termination.already_given")

        types = await stream_types(clm, str(cid))
        assert types.count("ContractRenewed") == 1 and types.count("RenewalReminderAcknowledged") == 1
        expected = ["RenewalTermsSet", "RenewalReminderAcknowledged", "ContractRenewed", "TerminationNoticeGiven"]
        on_clm = await on_topic(stack, topics.CLM_CONTRACTS, str(cid),
                                until=lambda found: any(e.event.event_type == "TerminationNoticeGiven" for e in found))
        assert [e.event.event_type for e in on_clm if e.event.event_type in expected] == expected


async def test_activation_without_terms_derives_them_from_the_executed_terms(service_env, stack):
    contract = executed_contract()  # auto-renewal negotiated, 36 months from 2027-01-01
    cid = contract.contract_uuid
    async with running_service("clm", service_env("clm")) as clm:
        await stored(clm, contract)
        await activated(clm, cid)
        shown = (await clm.get(f"/api/v1/contracts/{cid}/renewal-terms?periods=2", headers=READER)).json()
        assert (shown["origin"], shown["terms"]["renewal"], shown["terms"]["renewal_term"]) == (
            "executed_terms", "tacit", "P36M")
        assert shown["terms"]["owners"] == ["role:contract_manager"]
        assert [p["end_date"] for p in shown["periods"]] == ["2029-12-31", "2032-12-31"]
        # an owner-less caller without the manager role may not acknowledge; the manager may
        r = await clm.post(f"/api/v1/contracts/{cid}/renewal-reminders/acknowledge", headers=bearer("sales"),
                           json={"period_number": 1, "anchor": "end"})
        assert r.status_code == 403
        r = await clm.post(f"/api/v1/contracts/{cid}/renewal-reminders/acknowledge", headers=MANAGER,
                           json={"period_number": 1, "anchor": "end"})
        assert r.status_code == 200, r.text
