"""One contract through every service, each running as its own process, driven over HTTP.

CLM drafts and activates -> ContractActivated on Kafka -> the read model shows it; asset
coverage lets an asset be linked; order sync records it; the scheduler schedules expiry and,
when its clock passes the end date, emits ContractExpired, which the read model reflects.
"""

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.conftest import bearer, eventually
from tests.platform import PORT_BASE, running_platform, wait_ready
from tests.stack import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(service_env, tmp_path_factory):
    with running_platform(service_env, tmp_path_factory.mktemp("service-logs")) as running:
        yield running.urls


CONTRACT = {
    "title": "Maintenance of robot cell 4",
    "parties": [{"role": "customer", "name": "ACME Robotics"}, {"role": "vendor", "name": "Kuka Service"}],
    "start_date": "2026-01-01",
    "end_date": "2027-06-30",
    "time_zone": "Europe/Berlin",
}


async def test_one_contract_flows_through_every_service(platform):
    async with httpx.AsyncClient(timeout=10) as http:
        drafted = await http.post(f"{platform['clm']}/api/v1/contracts", json=CONTRACT, headers=bearer("legal_counsel"))
        assert drafted.status_code == 201, drafted.text
        contract_id = drafted.json()["contract_id"]
        assert drafted.json()["state"] == "draft"

        async def read_model(expect_state: str):
            r = await http.get(f"{platform['projection']}/api/v1/contracts/{contract_id}", headers=bearer("finance"))
            return r.json() if r.status_code == 200 and r.json()["state"] == expect_state else None

        record = await eventually(lambda: read_model("draft"))
        assert record["parties"] == CONTRACT["parties"]

        activated = await http.post(f"{platform['clm']}/api/v1/contracts/{contract_id}/activation",
                                    json={"expected_version": 1}, headers=bearer("sales_ops"))
        assert activated.status_code == 200, activated.text
        record = await eventually(lambda: read_model("active"))
        assert (record["start_date"], record["end_date"], record["time_zone"]) == ("2026-01-01", "2027-06-30", "Europe/Berlin")

        registered = await http.put(f"{platform['asset_coverage']}/api/v1/assets/KR-210-0042",
                                    json={"kind": "robot", "name": "KUKA KR 210 welding robot", "site": "Plant 4"},
                                    headers=bearer("asset_manager"))
        assert registered.status_code == 201, registered.text

        async def link():
            r = await http.post(f"{platform['asset_coverage']}/api/v1/contracts/{contract_id}/assets",
                                json={"asset_id": "KR-210-0042", "asset_name": "KUKA KR 210 welding robot"},
                                headers=bearer("asset_manager"))
            return r if r.status_code == 201 else None

        await eventually(link)  # 409 until the activation has reached the asset service

        async def asset_shown():
            r = await read_model("active")
            return r if r and r["assets"] else None

        record = await eventually(asset_shown)
        assert [a["asset_id"] for a in record["assets"]] == ["KR-210-0042"]

        async def recorded_by_order_sync():
            r = await http.get(f"{platform['order_sync']}/api/v1/service-contracts/{contract_id}", headers=bearer("sales"))
            return r.json() if r.status_code == 200 else None

        service_contract = await eventually(recorded_by_order_sync)
        assert service_contract["account"] == "ACME Robotics"

        async def scheduled():
            r = await http.get(f"{platform['lifecycle_scheduler']}/api/v1/schedules/{contract_id}", headers=bearer("sre"))
            return r.json() if r.status_code == 200 else None

        schedule = await eventually(scheduled)
        # End date is the last day in force: expiry at the start of 1 July 2027, Berlin time (UTC+2).
        assert schedule["expires_at"] == "2027-06-30T22:00:00Z"
        assert not schedule["expired"]

        # Time moves to just before the end date passes: nothing happens.
        await _set_clock(http, platform, "2027-06-30T21:59:00Z")
        await _settle()
        assert (await read_model("active")) is not None

        await _set_clock(http, platform, "2027-06-30T22:00:30Z")
        record = await eventually(lambda: read_model("expired"))
        assert record["expired_at"] == "2027-06-30T22:00:00Z"
        assert [a["asset_id"] for a in record["assets"]] == ["KR-210-0042"]


async def _set_clock(http, platform, instant: str) -> None:
    """Moves every clock that reads dates: the scheduler's timers and order sync's "today"."""
    for service in ("lifecycle_scheduler", "order_sync"):
        r = await http.put(f"{platform[service]}/api/v1/ops/clock", json={"now": instant}, headers=bearer("sre"))
        assert r.status_code == 200, r.text


async def _settle() -> None:
    await asyncio.sleep(1.5)  # several scheduler ticks: long enough for a wrongly early expiry


async def test_api_refuses_without_token_or_role_and_names_the_rule(platform):
    async with httpx.AsyncClient(timeout=10) as http:
        missing = await http.post(f"{platform['clm']}/api/v1/contracts", json=CONTRACT)
        assert missing.status_code == 401 and missing.json()["rule"] == "auth.token_missing"
        wrong_role = await http.post(f"{platform['clm']}/api/v1/contracts", json=CONTRACT, headers=bearer("finance"))
        assert wrong_role.status_code == 403 and wrong_role.json()["rule"] == "auth.role_required"
        assert (await http.get(f"{platform['clm']}/healthz")).status_code == 200
        invalid = await http.post(f"{platform['clm']}/api/v1/contracts", json={**CONTRACT, "end_date": "2025-01-01"},
                                  headers=bearer("legal_counsel"))
        assert invalid.status_code == 422
        assert invalid.json()["errors"] == [{"field": "end_date", "rule": "dates.end_before_start",
                                             "message": "the end date must not be before the start date"}]


async def test_stale_activation_is_a_409_naming_both_versions(platform):
    async with httpx.AsyncClient(timeout=10) as http:
        contract_id = (await http.post(f"{platform['clm']}/api/v1/contracts", json=CONTRACT,
                                       headers=bearer("contract_manager"))).json()["contract_id"]
        stale = await http.post(f"{platform['clm']}/api/v1/contracts/{contract_id}/activation",
                                json={"expected_version": 0}, headers=bearer("contract_manager"))
        assert stale.status_code == 409
        assert stale.json()["rule"] == "stream.version_conflict"
        assert (stale.json()["expected_version"], stale.json()["actual_version"]) == (0, 1)


async def test_retrying_a_draft_with_the_same_id_is_idempotent(platform):
    body = {**CONTRACT, "contract_id": str(uuid.uuid4())}
    async with httpx.AsyncClient(timeout=10) as http:
        first = await http.post(f"{platform['clm']}/api/v1/contracts", json=body, headers=bearer("sales"))
        again = await http.post(f"{platform['clm']}/api/v1/contracts", json=body, headers=bearer("sales"))
        other = await http.post(f"{platform['clm']}/api/v1/contracts", json={**body, "title": "Other"}, headers=bearer("sales"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["version"] == 1
    assert other.status_code == 409 and other.json()["rule"] == "contract.already_exists"


def test_a_service_stops_gracefully_on_sigterm(service_env, tmp_path):
    """SIGTERM: stop taking work, finish the batch, flush the relay, then exit."""
    port = PORT_BASE + 50
    log = tmp_path / "clm.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.clm"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **service_env("clm", PORT=str(port), LOG_LEVEL="INFO", PYTHONPATH=str(ROOT))})
        wait_ready(f"http://127.0.0.1:{port}", proc, log)
        proc.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once shutdown is complete, so supervisors see why it ended.
        assert proc.wait(timeout=40) in (0, -signal.SIGTERM)
    lines = log.read_text()
    assert '"event": "service.stopped"' in lines and '"unpublished": 0' in lines
    assert "Application shutdown complete" in lines


async def test_a_service_contract_is_activated_and_expired_by_time_with_its_children(platform):
    """Order sync drafts it; the scheduler's timers fire when both clocks pass the dates; order
    sync activates and later expires it with its line and entitlement; the read model follows."""
    ops = bearer("sales_ops")
    line_id = str(uuid.uuid4())
    body = {
        "account": f"e2e-{uuid.uuid4().hex[:6]}", "start_date": "2028-01-01", "end_date": "2028-06-30", "time_zone": "Europe/Berlin",
        "lines": [{"line_id": line_id, "product": "Premium support", "quantity": 1, "unit_price": "900",
                   "start_date": "2028-01-01", "end_date": "2028-06-30"}],
        "entitlements": [{"line_id": line_id, "name": "onsite-repair", "start_date": "2028-01-01", "end_date": "2028-06-30"}],
    }
    async with httpx.AsyncClient(timeout=10) as http:
        drafted = await http.post(f"{platform['order_sync']}/api/v1/service-contracts", json=body, headers=ops)
        assert drafted.status_code == 201, drafted.text
        cid = drafted.json()["contract_id"]

        async def timers():
            r = await http.get(f"{platform['lifecycle_scheduler']}/api/v1/service-contracts/{cid}/timers", headers=ops)
            return r.status_code == 200 and len(r.json()["timers"]) == 6 and r.json()["timers"]

        due = {t["due_at"] for t in await eventually(timers)}
        assert due == {"2027-12-31T23:00:00Z", "2028-06-30T22:00:00Z"}  # midnight in Berlin, start and day after end

        async def read_model(state: str):
            r = await http.get(f"{platform['projection']}/api/v1/service-contracts/{cid}", headers=ops)
            if r.status_code != 200:
                return None
            c = r.json()
            states = {c["state"]} | {x["state"] for x in c["lines"] + c["entitlements"]}
            return states == {state} and c

        assert await eventually(lambda: read_model("draft"))
        await _set_clocks(http, platform, "2027-12-31T23:00:01Z")
        assert await eventually(lambda: read_model("active"))
        await _set_clocks(http, platform, "2028-06-30T21:59:00Z")
        await _settle()
        assert await read_model("active")
        await _set_clocks(http, platform, "2028-06-30T22:00:01Z")
        assert await eventually(lambda: read_model("expired"))
        refused = await http.put(f"{platform['order_sync']}/api/v1/service-contracts/{cid}/dates",
                                 json={"start_date": "2028-01-01", "end_date": "2028-12-31"}, headers=ops)
        assert refused.status_code == 409 and refused.json()["rule"] == "state.terminal"


async def _set_clocks(http, platform, instant: str) -> None:
    for name in ("order_sync", "lifecycle_scheduler"):
        r = await http.put(f"{platform[name]}/api/v1/ops/clock", json={"now": instant}, headers=bearer("sre"))
        assert r.status_code == 200, r.text
