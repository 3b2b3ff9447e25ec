"""Links and coverage proofs on real PostgreSQL and Kafka: an asset manager links 5 registered assets
to a vendor contract over HTTP (a contract manager may not), the proof on a date inside and after
the contract's end, a backdated link end visible today but not as known before it was made,
a 50-asset query, the uncovered list, CoverageLapsed on Kafka, and the index rebuilt from the log
equal to the live one. Assets and the vendor contract are recorded through the service's own unit
of work (their HTTP resources are the inventory part's)."""

import asyncio
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from shared.events import topics
from shared.events.assets import AssetDetails
from shared.events.coverage import OperationalContractActivated, OperationalTerms, ServiceLevel, VendorContractTerms
from shared.events.link_dates import link_id
from services.lifecycle_scheduler.adapters import link_timers
from services.asset_coverage.adapters.coverage_rebuild import LOCK_ORDER, rebuild_coverage_index
from services.asset_coverage.adapters.coverage_tables import contract_facts, link_facts
from services.asset_coverage.adapters.inventory_index import asset_index
from services.asset_coverage.application.following import commit
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract
from tests.conftest import bearer, eventually, on_kafka, running_service

pytestmark = pytest.mark.integration

ASSET_MANAGER = bearer("asset_manager")
NOW = dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
async def service(service_env):
    async with running_service("asset_coverage", service_env("asset_coverage", ALLOW_CLOCK_CONTROL="true")) as client:
        client.app.state.context.clock.set(NOW)
        yield client


async def register_assets(client, ids: list[str], criticality: str = "critical") -> None:
    ctx = client.app.state.context
    async with ctx.uow() as uow:
        for asset_id in ids:
            uow.add(Asset.register(asset_id, AssetDetails(kind="robot", name=f"Robot {asset_id}", site="Plant 4",
                                                          criticality=criticality)))
        await commit(uow, TODAY)


async def vendor_contract(client, start=dt.date(2027, 1, 1), end=dt.date(2027, 12, 31)) -> str:
    number = f"V-{uuid.uuid4().hex[:8]}"
    terms = VendorContractTerms(number=number, vendor="KUKA", vendor_contract_number=number, name="Robot maintenance",
                                contract_model="maintenance", start_date=start, end_date=end)
    async with client.app.state.context.uow() as uow:
        contract = OperationalContract.register_vendor_contract(terms, OperationalTerms(sla=ServiceLevel(response_hours=4)))
        contract.record(OperationalContractActivated(contract_id=uuid.UUID(contract.id), on=start))
        uow.add(contract)
        await commit(uow, TODAY)
        return contract.id


def refused(response, status: int, rule: str) -> dict:
    assert response.status_code == status, response.text
    assert response.json()["rule"] == rule, response.json()
    return response.json()



async def coverage(client, asset_id: str, **params) -> dict:
    response = await client.get(f"/api/v1/assets/{asset_id}/coverage", params=params, headers=bearer("sre"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_linked_assets_are_proven_covered_inside_the_term_and_not_after(service, stack):
    tag = uuid.uuid4().hex[:6]
    assets = [f"ROB-{tag}-{i}" for i in range(5)]
    await register_assets(service, assets)
    contract_id = await vendor_contract(service)

    as_contract_manager = await service.post(f"/api/v1/contracts/{contract_id}/asset-links",
                                             json={"asset_ids": assets}, headers=bearer("contract_manager"))
    assert as_contract_manager.status_code == 403
    unknown = await service.post(f"/api/v1/contracts/{contract_id}/asset-links",
                                 json={"asset_ids": [*assets, f"NOPE-{tag}"]}, headers=ASSET_MANAGER)
    assert refused(unknown, 422, "asset.unknown")["unknown"] == [f"NOPE-{tag}"]
    outside = await service.post(f"/api/v1/contracts/{contract_id}/assets",
                                 json={"asset_id": assets[0], "effective_to": "2028-01-31"}, headers=ASSET_MANAGER)
    refused(outside, 422, "link.within_contract")

    linked = await service.post(f"/api/v1/contracts/{contract_id}/asset-links", json={"asset_ids": assets},
                                headers=ASSET_MANAGER)
    assert linked.status_code == 200, linked.text
    assert (linked.json()["linked"], linked.json()["unchanged"]) == (assets, 0)

    inside = await coverage(service, assets[0], on="2027-06-30")
    assert inside["covered"] and inside["registered"] and inside["covered_until"] == "2027-12-31"
    [covering] = inside["covering"]
    assert (covering["contract_id"], covering["state"], covering["sla"]["response_hours"]) == (contract_id, "active", "4")
    after = await coverage(service, assets[0], on="2028-01-01")
    assert not after["covered"] and [c["reason"] for c in after["not_covering"]] == ["contract_ended"]
    restored = await on_kafka(stack, topics.ASSET_COVERAGE_ASSETS, assets[0], "CoverageRestored")
    assert restored.event.contract_ids == [uuid.UUID(contract_id)]


async def test_a_backdated_link_end_shows_today_but_not_as_known_before_and_lapses_the_asset(service, stack):
    tag = uuid.uuid4().hex[:6]
    asset = f"ROB-{tag}"
    await register_assets(service, [asset])
    contract_id = await vendor_contract(service)
    assert (await service.post(f"/api/v1/contracts/{contract_id}/assets", json={"asset_id": asset},
                               headers=ASSET_MANAGER)).status_code == 201
    known_before = dt.datetime.now(dt.UTC).isoformat()

    revised = await service.put(f"/api/v1/contracts/{contract_id}/assets/{asset}",
                                json={"effective_from": None, "effective_to": "2027-02-01"}, headers=ASSET_MANAGER)
    assert revised.status_code == 200, revised.text

    today = await coverage(service, asset)
    assert (today["on"], today["covered"], today["not_covering"][0]["reason"]) == ("2027-03-01", False, "link_ended")
    then = await coverage(service, asset, known_at=known_before)
    assert then["covered"] and then["covering"][0]["link"]["effective_to"] is None
    lapsed = await on_kafka(stack, topics.ASSET_COVERAGE_ASSETS, asset, "CoverageLapsed")
    assert (lapsed.event.on, lapsed.event.last_contract_id, lapsed.event.reason) == (
        TODAY, uuid.UUID(contract_id), "link_ended")

    uncovered = await service.get("/api/v1/uncovered-assets", params={"criticality": "critical", "cursor": asset[:-1],
                                                                       "limit": 500}, headers=bearer("sre"))
    assert uncovered.status_code == 200, uncovered.text
    assert asset in [a["asset_id"] for a in uncovered.json()["items"]]


async def test_a_50_asset_query_answers_each_and_marks_the_unknown_one(service):
    tag = uuid.uuid4().hex[:6]
    assets = [f"PLC-{tag}-{i:02}" for i in range(49)]
    await register_assets(service, assets, criticality="high")
    contract_id = await vendor_contract(service)
    linked = await service.post(f"/api/v1/contracts/{contract_id}/asset-links",
                                json={"asset_ids": assets[:5], "effective_from": "2027-02-01"}, headers=ASSET_MANAGER)
    assert linked.status_code == 200, linked.text

    answer = await service.post("/api/v1/coverage-queries",
                                json={"asset_ids": [*assets, f"NOPE-{tag}"], "on": "2027-03-01"}, headers=bearer("sales"))
    assert answer.status_code == 200, answer.text
    by_id = {a["asset_id"]: a for a in answer.json()["assets"]}
    assert len(by_id) == 50
    assert [a for a in assets if by_id[a]["covered"]] == assets[:5]
    assert by_id[f"NOPE-{tag}"] | {"known_at": None} == {
        "asset_id": f"NOPE-{tag}", "registered": False, "on": "2027-03-01", "known_at": None, "covered": False,
        "covered_until": None, "covering": [], "not_covering": []}
    early = await service.post("/api/v1/coverage-queries", json={"asset_ids": assets[:1], "on": "2027-01-15"},
                               headers=bearer("sales"))
    assert early.json()["assets"][0]["not_covering"][0]["reason"] == "link_not_started"


async def test_the_uncovered_list_pages_through_critical_assets_without_coverage(service):
    tag = uuid.uuid4().hex[:6]
    assets = [f"CNC-{tag}-{i}" for i in range(4)]
    await register_assets(service, assets)
    contract_id = await vendor_contract(service)
    await service.post(f"/api/v1/contracts/{contract_id}/assets", json={"asset_id": assets[0]}, headers=ASSET_MANAGER)
    await service.post(f"/api/v1/contracts/{contract_id}/assets",
                       json={"asset_id": assets[1], "effective_to": "2027-03-10"}, headers=ASSET_MANAGER)

    async def page(**params) -> dict:
        response = await service.get("/api/v1/uncovered-assets", params={"cursor": f"CNC-{tag}-", **params},
                                     headers=bearer("sre"))
        assert response.status_code == 200, response.text
        return response.json()

    def ours(body):
        return [(a["asset_id"], a["covered_until"]) for a in body["items"] if a["asset_id"].startswith(f"CNC-{tag}-")]

    assert ours(await page(limit=2)) == [(assets[2], None), (assets[3], None)]
    assert ours(await page(lapsing_within_days=30, limit=3)) == [
        (assets[1], "2027-03-10"), (assets[2], None), (assets[3], None)]
    first = await page(lapsing_within_days=30, limit=1)
    assert ours(first) == [(assets[1], "2027-03-10")] and first["next_cursor"] == assets[1]


async def test_the_index_rebuilt_from_the_log_is_the_live_one(service):
    tag = uuid.uuid4().hex[:6]
    assets = [f"SRV-{tag}-{i}" for i in range(3)]
    await register_assets(service, assets)
    contract_id = await vendor_contract(service)
    for asset in assets:
        await service.post(f"/api/v1/contracts/{contract_id}/assets", json={"asset_id": asset}, headers=ASSET_MANAGER)
    await service.put(f"/api/v1/contracts/{contract_id}/assets/{assets[0]}", json={"effective_to": "2027-02-01"},
                      headers=ASSET_MANAGER)
    await service.delete(f"/api/v1/contracts/{contract_id}/assets/{assets[1]}", headers=ASSET_MANAGER)

    async def rows(conn) -> dict:
        return {t.name: sorted((tuple(r) for r in await conn.execute(sa.select(t))), key=repr)
                for t in (link_facts, contract_facts, asset_index)}

    async with service.app.state.context.engine.connect() as conn:
        async with conn.begin():
            # The log and the index frozen together, in the order the live path takes them (index first,
            # its events at the commit): the snapshot and the rebuild read the same history.
            await conn.execute(sa.text(f"LOCK TABLE {', '.join(LOCK_ORDER)}, events IN EXCLUSIVE MODE"))
            live = await rows(conn)
            assert await rebuild_coverage_index(conn) > 0
            rebuilt = await rows(conn)
            await conn.rollback()
    assert rebuilt == live
    ours = [r for r in live["coverage_link_facts"] if r[1].startswith(f"SRV-{tag}")]
    assert len(ours) == 4  # three links, one of them revised (its old row ends); the unlinked one ended


async def test_a_link_end_in_the_future_lapses_the_asset_when_the_scheduler_reaches_it(service, service_env, stack):
    tag = uuid.uuid4().hex[:6]
    asset = f"ROB-{tag}"
    await register_assets(service, [asset])
    contract_id = await vendor_contract(service)
    env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.2")
    async with running_service("lifecycle_scheduler", env) as scheduler:
        scheduler.app.state.context.clock.set(NOW)
        linked = await service.post(f"/api/v1/contracts/{contract_id}/assets",
                                    json={"asset_id": asset, "effective_to": "2027-03-10"}, headers=ASSET_MANAGER)
        assert linked.status_code == 201, linked.text
        link = link_id(contract_id, asset)

        async def timer_set():
            async with scheduler.app.state.context.engine.connect() as conn:
                return [(t.which, t.first_day) for t in await link_timers.timers_of(conn, link)]

        assert await eventually(timer_set) == [("end", dt.date(2027, 3, 11))]
        assert (await coverage(service, asset))["covered"]
        scheduler.app.state.context.clock.set(dt.datetime(2027, 3, 11, 0, 1, tzinfo=dt.UTC))
        reached = await on_kafka(stack, topics.LIFECYCLE_LINK_DATES, str(link), "AssetLinkDateReached")
        assert (reached.event.which, reached.event.on) == ("end", dt.date(2027, 3, 11))
        lapsed = await on_kafka(stack, topics.ASSET_COVERAGE_ASSETS, asset, "CoverageLapsed")
        assert (lapsed.event.on, lapsed.event.reason) == (dt.date(2027, 3, 11), "link_ended")


async def test_5000_assets_are_linked_in_one_request_and_one_append(service):
    tag = uuid.uuid4().hex[:6]
    assets = [f"PLC-{tag}-{i:04}" for i in range(5000)]
    await register_assets(service, assets, criticality="low")
    contract_id = await vendor_contract(service)
    started = asyncio.get_running_loop().time()
    linked = await service.post(f"/api/v1/contracts/{contract_id}/asset-links", json={"asset_ids": assets},
                                headers=ASSET_MANAGER)
    seconds = asyncio.get_running_loop().time() - started
    assert linked.status_code == 200, linked.text
    assert len(linked.json()["linked"]) == 5000
    async with service.app.state.context.engine.connect() as conn:
        appended = await conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT recorded_at) FROM events WHERE stream_id = :c AND event_type = 'AssetLinked'"),
            {"c": contract_id})
        assert tuple(appended.one()) == (5000, 1)
    print(f"5,000 links with their 5,000 CoverageRestored in {seconds:.1f} s")
