"""The inventory on real PostgreSQL and Kafka: asset_coverage's /api/v1/assets and
/api/v1/operational-contracts as callers meet them (201 / 200 by natural key, revisions by state
with If-Match, lists with filters and cursors, the ownership 403s), and a vendor contract turned
active then expired by its dates through the scheduler, once."""

import asyncio
import datetime as dt
import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from shared.events.contracts import ContractActivated, Party
from shared.events.envelope import Envelope, to_kafka
from services.lifecycle_scheduler.application.operational_contract_dates import fire_due_operational_contract_timers
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration

MANAGER, FINANCE, CONTRACTS, READER = bearer("asset_manager"), bearer("finance"), bearer("contract_manager"), bearer("sre")
TODAY = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
async def asset_coverage(service_env):
    async with running_service("asset_coverage", service_env("asset_coverage")) as client:
        yield client


def vendor_contract(**terms) -> dict:
    return {
        "terms": {"number": "VC-1", "vendor": "KUKA Service GmbH", "vendor_contract_number": f"KS-{uuid.uuid4().hex[:8]}",
                  "name": "Robot maintenance, Plant 4", "customer": "ACME", "contract_model": "maintenance",
                  "start_date": "2027-01-01", "end_date": "2027-06-30", "time_zone": "Europe/Berlin", **terms},
        "operational": {"sla": {"response_hours": "4", "service_hours": "24x7"}, "owners": ["ot-maria"],
                        "costs": {"currency": "EUR", "payment_amount": "1200.00", "cost_center": "CC-4711"}},
    }


def refused(response, status: int, rule: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule, body
    if field:
        assert body["errors"][0]["field"] == field, body
    return body


async def stream(client, stream_id: str) -> list[str]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type FROM events WHERE stream_id = :s ORDER BY version"),
                                  {"s": stream_id})
        return list(rows.scalars())


async def test_assets_are_put_by_their_id_listed_by_filter_and_paged(asset_coverage):
    site = f"Plant {uuid.uuid4().hex[:6]}"
    robot = {"kind": "robot", "name": "KUKA KR 210", "model": "KR 210", "site": site, "criticality": "critical"}
    ids = [f"CMDB/ROB-{i}" for i in range(3)]
    for asset_id in ids:
        created = await asset_coverage.put(f"/api/v1/assets/{asset_id}", json=robot, headers=MANAGER)
        assert created.status_code == 201 and created.headers["etag"] == '"1"', created.text
        assert created.headers["location"] == f"/api/v1/assets/{asset_id.replace('/', '%2F')}"
    again = await asset_coverage.put(f"/api/v1/assets/{ids[0]}", json=robot, headers=MANAGER)
    assert again.status_code == 200 and again.json()["version"] == 1  # unchanged: nothing recorded
    moved = await asset_coverage.put(f"/api/v1/assets/{ids[0]}", json={**robot, "owner": "ot-maria"}, headers=MANAGER)
    assert moved.status_code == 200 and moved.json()["version"] == 2 and moved.json()["owner"] == "ot-maria"
    assert await stream(asset_coverage, ids[0]) == ["AssetRegistered", "AssetRevised"]
    plc = await asset_coverage.put(f"/api/v1/assets/PLC-{site}".replace(" ", "-"),
                                   json={"kind": "plc", "name": "S7-1500", "site": site}, headers=MANAGER)
    assert plc.status_code == 201, plc.text

    got = await asset_coverage.get("/api/v1/assets/CMDB%2FROB-1", headers=READER)
    assert got.status_code == 200 and got.json()["asset_id"] == "CMDB/ROB-1" and got.json()["covered"] is False
    first = (await asset_coverage.get("/api/v1/assets", params={"kind": "robot", "site": site, "limit": 2},
                                      headers=READER)).json()
    rest = (await asset_coverage.get("/api/v1/assets", params={"kind": "robot", "site": site, "limit": 2,
                                                                "cursor": first["next_cursor"]}, headers=READER)).json()
    assert [a["asset_id"] for a in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None

    refused(await asset_coverage.put("/api/v1/assets/ROB-X", json=robot, headers=CONTRACTS), 403, "auth.role_required")
    refused(await asset_coverage.put("/api/v1/assets/ROB%20X", json=robot, headers=MANAGER), 422, "request.invalid")
    refused(await asset_coverage.put("/api/v1/assets/ROB-Y", json={**robot, "licence_quantity": 5}, headers=MANAGER),
            422, "asset.details_invalid")
    refused(await asset_coverage.get("/api/v1/assets/NOPE-1", headers=READER), 404, "asset.not_found")


async def test_a_vendor_contract_is_registered_once_by_its_natural_key_and_revised_by_state(asset_coverage):
    body = vendor_contract()
    created = await asset_coverage.post("/api/v1/operational-contracts", json=body, headers=MANAGER)
    assert created.status_code == 201, created.text
    contract = created.json()
    cid = contract["contract_id"]
    assert contract["state"] == "draft" and contract["origin"] == "operations" and contract["version"] == 1
    assert created.headers["location"] == f"/api/v1/operational-contracts/{cid}"
    retried = await asset_coverage.post("/api/v1/operational-contracts", json=body, headers=MANAGER)
    assert retried.status_code == 200 and retried.json() == contract
    shouted = {**body, "terms": {**body["terms"], "vendor": "KUKA SERVICE GMBH", "name": "Robot care"}}
    updated = await asset_coverage.post("/api/v1/operational-contracts", json=shouted, headers=MANAGER)
    assert updated.status_code == 200 and updated.json()["contract_id"] == cid and updated.json()["version"] == 2

    stale = await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"end_date": "2027-12-31"},
                                       headers={**MANAGER, "If-Match": '"1"'})
    refused(stale, 409, "stream.version_conflict")
    patched = await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"end_date": "2027-12-31"},
                                         headers={**MANAGER, "If-Match": '"2"'})
    assert patched.status_code == 200 and patched.json()["end_date"] == "2027-12-31" and patched.headers["etag"] == '"3"'
    refused(await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"end_date": "2026-01-01"},
                                       headers=MANAGER), 422, "dates.end_before_start", "end_date")
    refused(await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"time_zone": "Mars/Olympus"},
                                       headers=MANAGER), 422, "dates.time_zone_unknown", "time_zone")
    unknown_currency = {**body["operational"], "costs": {"currency": "XYZ", "payment_amount": "1.234"}}
    refused(await asset_coverage.put(f"/api/v1/operational-contracts/{cid}/operational-terms", json=unknown_currency,
                                     headers=MANAGER), 422, "operational_terms.invalid", "costs.currency")

    finance_costs = {**body["operational"], "costs": {**body["operational"]["costs"], "payment_amount": "999.00"}}
    costs = await asset_coverage.put(f"/api/v1/operational-contracts/{cid}/operational-terms", json=finance_costs,
                                     headers=FINANCE)
    assert costs.status_code == 200 and costs.json()["operational"]["costs"]["payment_amount"] == "999.00", costs.text
    refused(await asset_coverage.put(f"/api/v1/operational-contracts/{cid}/operational-terms",
                                     json={**finance_costs, "owners": []}, headers=FINANCE),
            403, "ownership.finance_sets_costs_only")
    refused(await asset_coverage.post("/api/v1/operational-contracts", json=vendor_contract(), headers=CONTRACTS),
            403, "auth.role_required")
    refused(await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"name": "x"}, headers=FINANCE),
            403, "auth.role_required")

    canceled = await asset_coverage.post(f"/api/v1/operational-contracts/{cid}/cancel",
                                         json={"effective_on": "2027-03-01", "reason": "plant closed"}, headers=MANAGER)
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled", canceled.text
    assert canceled.json()["canceled_on"] == "2027-03-01"
    refused(await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"name": "x"}, headers=MANAGER),
            409, "state.terminal")
    assert await stream(asset_coverage, cid) == ["VendorContractRegistered", "VendorContractRevised",
                                                 "VendorContractRevised", "OperationalTermsSet",
                                                 "OperationalContractCanceled"]

    listed = (await asset_coverage.get("/api/v1/operational-contracts",
                                       params={"state": "canceled", "vendor": "kuka service gmbh", "limit": 500},
                                       headers=READER)).json()
    assert cid in [c["contract_id"] for c in listed["items"]]
    assert all(c["state"] == "canceled" for c in listed["items"])


async def test_a_contract_from_contracting_keeps_its_legal_terms_there(asset_coverage, stack):
    activated = ContractActivated(contract_id=uuid.uuid4(), number="C-77", title="Robot fleet MSA",
                                  contract_model="msa", parties=[Party(role="customer", name="ACME")],
                                  start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 12, 31), time_zone="UTC")
    producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
    await producer.start()
    try:
        topic, headers, value, key = to_kafka(Envelope(activated, stream_version=2))
        await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    cid = str(activated.contract_id)

    async def opened():
        r = await asset_coverage.get(f"/api/v1/operational-contracts/{cid}", headers=READER)
        return r.json() if r.status_code == 200 else None

    contract = await eventually(opened, timeout=60)
    assert (contract["origin"], contract["state"], contract["terms"]) == ("contracting", "active", None)
    refused(await asset_coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"end_date": "2028-12-31"},
                                       headers=MANAGER), 403, "ownership.legal_terms_owned_by_contracting")
    refused(await asset_coverage.post(f"/api/v1/operational-contracts/{cid}/cancel", json={"effective_on": "2027-06-01"},
                                      headers=MANAGER), 403, "ownership.legal_terms_owned_by_contracting")
    refused(await asset_coverage.put(f"/api/v1/operational-contracts/{cid}/operational-terms", json={"owners": ["x"]},
                                     headers=CONTRACTS), 403, "auth.role_required")
    ops = await asset_coverage.put(f"/api/v1/operational-contracts/{cid}/operational-terms",
                                   json={"owners": ["ot-maria"], "sla": {"response_hours": 8}}, headers=MANAGER)
    assert ops.status_code == 200 and ops.json()["operational"]["owners"] == ["ot-maria"], ops.text
    listed = (await asset_coverage.get("/api/v1/operational-contracts", params={"origin": "contracting", "contract_model": "msa", "limit": 500},
                                       headers=READER)).json()
    assert cid in [c["contract_id"] for c in listed["items"]]


async def test_the_scheduler_activates_then_expires_a_vendor_contract_by_its_dates_once(service_env):
    scheduler_env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")
    async with AsyncExitStack() as services:
        coverage = await services.enter_async_context(running_service("asset_coverage", service_env("asset_coverage")))
        scheduler = await services.enter_async_context(running_service("lifecycle_scheduler", scheduler_env))
        ctx = scheduler.app.state.context
        ctx.clock.set(TODAY)
        future = (await coverage.post("/api/v1/operational-contracts", json=vendor_contract(), headers=MANAGER)).json()
        past = (await coverage.post("/api/v1/operational-contracts", headers=MANAGER,
                                    json=vendor_contract(start_date="2026-11-01", end_date="2027-06-30"))).json()
        cid = future["contract_id"]

        async def timers(contract_id: str):
            r = await scheduler.get(f"/api/v1/operational-contracts/{contract_id}/timers", headers=READER)
            return r.json()["timers"] if r.status_code == 200 else None

        async def state(contract_id: str, expected: str):
            r = await coverage.get(f"/api/v1/operational-contracts/{contract_id}", headers=READER)
            return r.json()["state"] == expected

        got = await eventually(lambda: timers(cid), timeout=60)
        assert [(t["kind"], t["date"], t["due_at"], t["fired_at"]) for t in got] == [
            ("start", "2027-01-01", "2026-12-31T23:00:00Z", None),  # midnight in Berlin
            ("end", "2027-06-30", "2027-06-30T22:00:00Z", None)]
        await eventually(lambda: state(past["contract_id"], "active"), timeout=60)  # registered past its start

        ctx.clock.set(dt.datetime(2026, 12, 31, 22, 50, tzinfo=dt.UTC))
        while await fire_due_operational_contract_timers(ctx):
            pass
        assert await stream(scheduler, cid) == []  # still 31 December in Berlin
        ctx.clock.set(dt.datetime(2026, 12, 31, 23, 0, 1, tzinfo=dt.UTC))
        await eventually(lambda: state(cid, "active"), timeout=60)
        # extended while active: the end timer moves with it
        extended = await coverage.patch(f"/api/v1/operational-contracts/{cid}", json={"end_date": "2027-09-30"},
                                        headers=MANAGER)
        assert extended.status_code == 200, extended.text

        async def end_moved():
            got = await timers(cid)
            return got and got[-1]["date"] == "2027-09-30"

        await eventually(end_moved, timeout=60)
        ctx.clock.set(dt.datetime(2027, 7, 1, tzinfo=dt.UTC))  # the old end has passed, the new one not
        while await fire_due_operational_contract_timers(ctx):
            pass
        assert await stream(scheduler, cid) == ["OperationalContractStartReached"]
        ctx.clock.set(dt.datetime(2027, 9, 30, 22, 0, 1, tzinfo=dt.UTC))
        await eventually(lambda: state(cid, "expired"), timeout=60)
        await eventually(lambda: state(past["contract_id"], "expired"), timeout=60)
        ctx.clock.set(dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
        while await fire_due_operational_contract_timers(ctx):
            pass
        await asyncio.sleep(0.5)
        assert await stream(scheduler, cid) == ["OperationalContractStartReached", "OperationalContractEndReached"]
        assert await stream(coverage, cid) == ["VendorContractRegistered", "OperationalContractActivated",
                                               "VendorContractRevised", "OperationalContractExpired"]
        listed, cursor = set(), None  # every page: other tests leave expired contracts too
        while True:
            page = (await coverage.get("/api/v1/operational-contracts", headers=READER,
                                       params={"state": "expired", "limit": 500, **({"cursor": cursor} if cursor else {})})).json()
            listed |= {c["contract_id"] for c in page["items"]}
            assert {c["state"] for c in page["items"]} <= {"expired"}
            if not (cursor := page["next_cursor"]):
                break
        assert {cid, past["contract_id"]} <= listed


async def test_two_scheduler_replicas_and_a_restart_announce_each_date_once(service_env, stack):
    """asset_coverage's VendorContractRegistered as it publishes them, all past their start; two
    replicas sweep; a third scheduler starts after one more was registered while none ran."""
    from services.asset_coverage.domain.operational_contract import OperationalContract
    from shared.events.coverage import OperationalTerms, VendorContractTerms

    def registered(zone: str):
        terms = VendorContractTerms(number="VC-9", vendor="ABB Service", vendor_contract_number=uuid.uuid4().hex,
                                    name="PLC support", contract_model="support", start_date=dt.date(2026, 11, 1),
                                    end_date=dt.date(2027, 10, 31), time_zone=zone)
        return OperationalContract.register_vendor_contract(terms, OperationalTerms()).pending_events[0]

    async def publish(*events) -> None:
        producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                topic, headers, value, key = to_kafka(Envelope(event, stream_version=1))
                await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
        finally:
            await producer.stop()

    contracts = [registered(zone) for zone in ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland"] * 3]
    late = registered("Asia/Tokyo")
    env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")
    after = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # past every start, before every end
    async with AsyncExitStack() as services:
        one = await services.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await services.enter_async_context(running_service("lifecycle_scheduler", env))
        for replica in (one, two):
            replica.app.state.context.clock.set(dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
        await publish(*contracts)

        async def all_set():
            return all([(await one.get(f"/api/v1/operational-contracts/{e.contract_id}/timers",
                                       headers=READER)).status_code == 200 for e in contracts])

        await eventually(all_set, timeout=60)
        for replica in (one, two):
            replica.app.state.context.clock.set(after)

        async def all_started():
            return all([await stream(one, str(e.contract_id)) == ["OperationalContractStartReached"] for e in contracts])

        await eventually(all_started, timeout=60)
    await publish(late)  # no scheduler runs: it waits on the topic
    async with running_service("lifecycle_scheduler", env) as three:
        three.app.state.context.clock.set(after)

        async def late_started():
            return await stream(three, str(late.contract_id)) == ["OperationalContractStartReached"]

        await eventually(late_started, timeout=60)
        await asyncio.sleep(0.5)
        for e in contracts:
            assert await stream(three, str(e.contract_id)) == ["OperationalContractStartReached"]
