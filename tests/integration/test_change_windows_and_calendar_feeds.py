"""Change windows and calendar feeds of asset_coverage on real PostgreSQL and Kafka: overlapping
windows are flagged on both (also when planned at the same moment), a site's iCal feed lists its
change windows and the renewal deadlines of the contracts covering its assets (derived from
operations' events through Kafka), an owner's feed is the owner's own, and a revoked token gets 404
like an unknown one."""

import asyncio
import datetime as dt
import uuid

import icalendar
import pytest
import sqlalchemy as sa

from shared.events.assets import AssetDetails
from shared.events.coverage import OperationalTerms, VendorContractTerms
from services.asset_coverage.application import linking, registry
from tests.conftest import bearer, eventually, running_service, token

pytestmark = pytest.mark.integration

ASSET_MANAGER = bearer("asset_manager")
START = dt.datetime(2027, 3, 2, 7, tzinfo=dt.UTC)


@pytest.fixture
async def asset_coverage(service_env):
    async with running_service("asset_coverage", service_env("asset_coverage")) as client:
        yield client


def window(site: str | None, assets: list[str], start_hour: int = 0, hours: int = 4, **extra) -> dict:
    starts = START + dt.timedelta(hours=start_hour)
    return {"title": "KUKA warranty visit", "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=hours)).isoformat(), "time_zone": "Europe/Berlin",
            "asset_ids": assets, "site": site, **extra}


async def plan(client, body: dict) -> dict:
    response = await client.post("/api/v1/change-windows", json=body, headers=ASSET_MANAGER)
    assert response.status_code == 201, response.text
    return response.json()


async def flagged(client, window_id: str) -> list[str]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text(
            "SELECT payload->>'other_window_id' FROM events WHERE stream_id = :s"
            " AND event_type = 'ChangeWindowOverlapFlagged' ORDER BY version"), {"s": window_id})
        return list(rows.scalars())


async def test_overlapping_windows_are_flagged_on_both_and_listed_as_overlapping(asset_coverage):
    tag = uuid.uuid4().hex[:6]
    first = await plan(asset_coverage, window(None, [f"ROB-{tag}", f"PLC-{tag}"]))
    apart = await plan(asset_coverage, window(None, [f"PLC-{tag}"], start_hour=4))  # back to back: no overlap
    second = await plan(asset_coverage, window(None, [f"PLC-{tag}"], start_hour=3))

    assert {o["window_id"] for o in second["overlaps"]} == {first["window_id"], apart["window_id"]}
    assert {tuple(o["shared_asset_ids"]) for o in second["overlaps"]} == {(f"PLC-{tag}",)}
    answer = (await asset_coverage.get(f"/api/v1/change-windows/{first['window_id']}", headers=ASSET_MANAGER)).json()
    assert [o["window_id"] for o in answer["overlaps"]] == [second["window_id"]]
    assert await flagged(asset_coverage, first["window_id"]) == [second["window_id"]]
    assert sorted(await flagged(asset_coverage, second["window_id"])) == sorted([first["window_id"], apart["window_id"]])

    listed = (await asset_coverage.get("/api/v1/change-windows", params={"asset_id": f"PLC-{tag}", "overlapping": "true"},
                                       headers=ASSET_MANAGER)).json()
    assert {w["window_id"] for w in listed["items"]} == {first["window_id"], second["window_id"], apart["window_id"]}

    canceled = await asset_coverage.post(f"/api/v1/change-windows/{second['window_id']}/cancel", json={"reason": "moved"},
                                         headers={**ASSET_MANAGER, "If-Match": str(second["version"])})
    assert canceled.status_code == 200 and canceled.json()["canceled"] and canceled.json()["overlaps"] == []
    listed = (await asset_coverage.get("/api/v1/change-windows", params={"asset_id": f"PLC-{tag}", "overlapping": "true"},
                                       headers=ASSET_MANAGER)).json()
    assert listed["items"] == []


async def test_two_overlapping_plans_sent_at_once_still_find_each_other(asset_coverage):
    for _ in range(3):
        site = f"Plant {uuid.uuid4().hex[:6]}"
        a, b = await asyncio.gather(plan(asset_coverage, window(site, [])), plan(asset_coverage, window(site, [], 1)))
        assert await flagged(asset_coverage, a["window_id"]) == [b["window_id"]]
        assert await flagged(asset_coverage, b["window_id"]) == [a["window_id"]]


async def test_planning_is_for_asset_managers_and_a_retry_is_a_replay(asset_coverage):
    body = window(None, [f"CNC-{uuid.uuid4().hex[:6]}"], window_id=str(uuid.uuid4()))
    refused = await asset_coverage.post("/api/v1/change-windows", json=body, headers=bearer("contract_manager"))
    assert refused.status_code == 403
    created = await asset_coverage.post("/api/v1/change-windows", json=body, headers=ASSET_MANAGER)
    again = await asset_coverage.post("/api/v1/change-windows", json=body, headers=ASSET_MANAGER)
    assert (created.status_code, again.status_code) == (201, 200) and again.json() == created.json()
    other = await asset_coverage.post("/api/v1/change-windows", json={**body, "title": "other"}, headers=ASSET_MANAGER)
    assert other.status_code == 409 and other.json()["rule"] == "change_window.already_exists"
    stale = await asset_coverage.patch(f"/api/v1/change-windows/{body['window_id']}", json={"title": "Visit"},
                                       headers={**ASSET_MANAGER, "If-Match": '"7"'})
    assert stale.status_code == 409
    revised = await asset_coverage.patch(f"/api/v1/change-windows/{body['window_id']}", json={"title": "Visit"},
                                         headers={**ASSET_MANAGER, "If-Match": '"1"'})
    assert revised.status_code == 200 and revised.json()["title"] == "Visit" and revised.headers["ETag"] == '"2"'


async def record_contract_at(client, site: str, tag: str) -> uuid.UUID:
    """A vendor contract covering a robot at `site`, through operations' use cases."""
    new_uow = client.app.state.context.uow
    await registry.register_asset(new_uow(), f"ROB-{tag}",
                                  AssetDetails(kind="robot", name="KR 210", site=site, criticality="critical"))
    contract, _ = await registry.register_vendor_contract(new_uow(), VendorContractTerms(
        number=f"VC-{tag}", vendor="KUKA Service GmbH", vendor_contract_number=f"KS-{tag}", name="Robot maintenance",
        contract_model="maintenance", start_date=dt.date(2026, 1, 1), end_date=dt.date(2027, 6, 30)),
        OperationalTerms(owners=["ot-maria"]))
    await linking.link_asset(new_uow(), dt.date(2026, 1, 1), uuid.UUID(contract.id), f"ROB-{tag}")
    return uuid.UUID(contract.id)


def entries(ics: bytes) -> dict[str, icalendar.cal.Component]:
    return {str(c["uid"]): c for c in icalendar.Calendar.from_ical(ics).walk() if c.name in ("VEVENT", "VTODO")}


async def test_a_site_feed_lists_its_change_windows_and_renewal_deadlines_until_revoked(asset_coverage):
    tag = uuid.uuid4().hex[:6]
    site = f"Plant {tag}"
    contract_id = await record_contract_at(asset_coverage, site, tag)
    on_site = await plan(asset_coverage, window(site, []))
    on_asset = await plan(asset_coverage, window(None, [f"ROB-{tag}"], start_hour=30))
    await plan(asset_coverage, window("Elsewhere", [f"PLC-{tag}"]))

    created = await asset_coverage.post("/api/v1/calendar-feeds", json={"scope": "site", "value": site},
                                        headers=bearer("contract_manager"))
    assert created.status_code == 201, created.text
    feed = created.json()
    assert feed["url"].endswith(f"/api/v1/calendar/{feed['token']}.ics")
    path = f"/api/v1/calendar/{feed['token']}.ics"

    async def both_listed():
        response = await asset_coverage.get(path)
        assert response.status_code == 200 and response.headers["content-type"] == "text/calendar; charset=utf-8"
        found = entries(response.content)
        return found if f"renewal-{contract_id}-20270630@asset-coverage.clm-platform" in found else None

    found = await eventually(both_listed)
    windows = {uid for uid in found if uid.startswith("change-window-")}
    assert windows == {f"change-window-{on_site['window_id']}@asset-coverage.clm-platform",
                       f"change-window-{on_asset['window_id']}@asset-coverage.clm-platform"}
    todo = found[f"renewal-{contract_id}-20270630@asset-coverage.clm-platform"]
    assert todo.name == "VTODO" and todo.decoded("due") == dt.date(2027, 6, 30)
    assert sorted(a.decoded("trigger").days for a in todo.walk("VALARM")) == [-90, -60, -30, 0]
    deadline_days = sorted(c.decoded("dtstart") for uid, c in found.items() if uid.startswith(f"renewal-{contract_id}-") and c.name == "VEVENT")
    assert deadline_days == [dt.date(2027, 4, 1), dt.date(2027, 5, 1), dt.date(2027, 5, 31), dt.date(2027, 6, 30)]
    assert f"ROB-{tag}" in str(todo["description"])

    mine = (await asset_coverage.get("/api/v1/calendar-feeds", headers=bearer("contract_manager"))).json()
    assert feed["feed_id"] in {f["feed_id"] for f in mine["items"]} and "token" not in mine["items"][0]
    revoked = await asset_coverage.delete(f"/api/v1/calendar-feeds/{feed['feed_id']}", headers=bearer("contract_manager"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone, unknown = await asset_coverage.get(path), await asset_coverage.get("/api/v1/calendar/not-a-token.ics")
    assert gone.status_code == unknown.status_code == 404
    assert gone.json()["rule"] == unknown.json()["rule"] == "calendar_feed.not_found"


async def test_an_owner_feed_is_for_the_owner_and_lists_the_owners_contracts(asset_coverage):
    tag = uuid.uuid4().hex[:6]
    contract_id = await record_contract_at(asset_coverage, f"Plant {tag}", tag)
    maria = {"Authorization": f"Bearer {token('contract_manager', subject='ot-maria')}"}
    refused = await asset_coverage.post("/api/v1/calendar-feeds", json={"scope": "owner", "value": "someone-else"},
                                        headers=maria)
    assert refused.status_code == 403 and refused.json()["rule"] == "feed.owner_only_self"
    created = await asset_coverage.post("/api/v1/calendar-feeds", json={"scope": "owner", "value": "ot-maria"}, headers=maria)
    assert created.status_code == 201
    other_user = await asset_coverage.delete(f"/api/v1/calendar-feeds/{created.json()['feed_id']}",
                                             headers=bearer("contract_manager"))
    assert other_user.status_code == 404

    async def listed():
        found = entries((await asset_coverage.get(f"/api/v1/calendar/{created.json()['token']}.ics")).content)
        return f"renewal-{contract_id}-20270630@asset-coverage.clm-platform" in found

    assert await eventually(listed)
