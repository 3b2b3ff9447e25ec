"""The operations flow end to end (issue 12), every service its own process, driven over HTTP:

an XLSX of 12 vendor contracts for robots and PLCs, 2 of its rows bad -> 10 accepted, the 2 reported
with row, column and reason -> the same file again creates nothing -> one contract linked to 5
registered assets -> its coverage proven on a date inside its term and refused after its end ->
the scheduler's clock past the end: the contract expires, each asset records CoverageLapsed and is
listed as uncovered -> the renewal task was opened for its owner (and mailed through the real SMTP
server), and the site's iCalendar feed lists the renewal deadlines.
"""

import csv
import datetime as dt
import io
import uuid

import httpx
import icalendar
import openpyxl
import pytest

from services.asset_coverage.domain.operational_contract.terms import vendor_contract_id
from shared.events import topics
from tests.conftest import bearer, eventually, events_on_kafka
from tests.platform import running_platform

pytestmark = pytest.mark.e2e

VENDOR = "KUKA Service GmbH"
OWNER = "ot-lead@plant4.example"
ASSETS = ["ROB-4-001", "ROB-4-002", "ROB-4-003", "PLC-4-001", "PLC-4-002"]
TODAY = dt.date.today()
START, END = TODAY - dt.timedelta(days=300), TODAY + dt.timedelta(days=20)
HEADER = ["Number", "Vendor", "Vendor contract number", "Name", "Contract model", "Start date", "End date",
          "Response hours", "Resolution hours", "Service hours", "Currency", "Payment amount", "Payment schedule",
          "Owners"]
BAD_DATE_ROW, BAD_MODEL_ROW = 5, 9  # spreadsheet rows (the header is row 1)


@pytest.fixture(scope="module")
def platform(service_env, tmp_path_factory):
    with running_platform(service_env, tmp_path_factory.mktemp("operations-logs")) as running:
        yield running.urls


def vendor_contracts_xlsx(run: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for n in range(1, 13):
        kind = "robots" if n % 2 else "PLCs"
        row = [f"VC-{run}-{n:02d}", VENDOR, f"KS-{run}-{n:03d}", f"Maintenance of the {kind}, Plant 4 (#{n})",
               "maintenance", START, END, 4, 24, "24x7", "EUR", "1200.00", "quarterly", OWNER]
        if n + 1 == BAD_DATE_ROW:
            row[6] = "03/04/2027"  # day or month first? refused, never guessed
        if n + 1 == BAD_MODEL_ROW:
            row[4] = "rental"
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def imported(http, url: str, content: bytes) -> dict:
    posted = await http.post(f"{url}/api/v1/imports/contracts", headers=bearer("asset_manager"),
                             files={"file": ("vendor-contracts.xlsx", content)})
    assert posted.status_code == 202, posted.text
    job_url = f"{url}{posted.headers['location']}"

    async def done():
        job = (await http.get(job_url, headers=bearer("finance"))).json()
        return job if job["state"] in ("completed", "failed") else None

    job = await eventually(done, timeout=60)
    assert job["state"] == "completed", job
    return job



async def test_import_link_prove_expire_lapse_and_the_deadlines(platform, stack, smtp_server):
    run = uuid.uuid4().hex[:6]
    ops = platform["asset_coverage"]
    async with httpx.AsyncClient(timeout=30) as http:
        content = vendor_contracts_xlsx(run)
        job = await imported(http, ops, content)
        assert (job["accepted"]["created"], job["rejected"]) == (10, 2), job
        report = (await http.get(f"{ops}/api/v1/imports/{job['job_id']}/report?format=csv",
                                 headers=bearer("finance"))).text
        rows = {int(r["row"]): r for r in csv.DictReader(io.StringIO(report.lstrip("\ufeff")))}
        assert set(rows) == {BAD_DATE_ROW, BAD_MODEL_ROW}, report
        assert rows[BAD_DATE_ROW]["column"] == "end_date" and "ambiguous date" in rows[BAD_DATE_ROW]["reason"]
        assert rows[BAD_MODEL_ROW]["column"] == "contract_model" and rows[BAD_MODEL_ROW]["value"] == "rental"

        again = await imported(http, ops, content)
        assert (again["accepted"]["created"], again["accepted"]["unchanged"], again["rejected"]) == (0, 10, 2), again
        listed = (await http.get(f"{ops}/api/v1/operational-contracts", params={"vendor": VENDOR, "limit": 100},
                                 headers=bearer("finance"))).json()
        ours = [c for c in listed["items"] if c["number"].startswith(f"VC-{run}-")]
        assert len(ours) == 10  # no duplicates

        contract_id = str(vendor_contract_id(VENDOR, f"KS-{run}-001"))
        for asset_id in ASSETS:
            kind = "robot" if asset_id.startswith("ROB") else "plc"
            put = await http.put(f"{ops}/api/v1/assets/{asset_id}-{run}", headers=bearer("asset_manager"),
                                 json={"kind": kind, "name": f"{kind} {asset_id}", "site": f"Plant 4 {run}",
                                       "criticality": "critical", "owner": OWNER})
            assert put.status_code == 201, put.text
        assets = [f"{a}-{run}" for a in ASSETS]

        async def active():
            c = (await http.get(f"{ops}/api/v1/operational-contracts/{contract_id}", headers=bearer("finance"))).json()
            return c if c["state"] == "active" else None

        await eventually(active, timeout=60)  # started in the past: the scheduler's first sweep activates it
        linked = await http.post(f"{ops}/api/v1/contracts/{contract_id}/asset-links", headers=bearer("asset_manager"),
                                 json={"asset_ids": assets})
        assert linked.status_code in (200, 201), linked.text
        assert sorted(linked.json()["linked"]) == sorted(assets)
        refused = await http.post(f"{ops}/api/v1/contracts/{contract_id}/asset-links",
                                  headers=bearer("contract_manager"), json={"asset_ids": assets})
        assert refused.status_code == 403  # IT/OT owns the links

        proofs = (await http.post(f"{ops}/api/v1/coverage-queries", headers=bearer("sales"),
                                  json={"asset_ids": assets, "on": (END - dt.timedelta(days=1)).isoformat()})).json()
        inside = {p["asset_id"]: p for p in proofs["assets"]}
        assert all(inside[a]["covered"] for a in assets), proofs
        covering = inside[assets[0]]["covering"][0]
        assert covering["contract_id"] == contract_id and covering["sla"]["response_hours"] in ("4", 4, "4.0")
        after = (await http.get(f"{ops}/api/v1/assets/{assets[0]}/coverage",
                                params={"on": (END + dt.timedelta(days=1)).isoformat()}, headers=bearer("sales"))).json()
        assert not after["covered"] and after["not_covering"][0]["reason"] == "contract_ended"

        async def task_opened():  # end in 20 days: the 90, 60 and 30 days deadlines are past, the latest counts
            r = await http.get(f"{ops}/api/v1/renewal-tasks", params={"contract_id": contract_id},
                               headers=bearer("finance"))
            items = r.json()["items"]
            return items[0] if items else None

        task = await eventually(task_opened, timeout=60)
        assert task["end_date"] == END.isoformat() and OWNER in task["assignees"], task
        await eventually(lambda: _mailed(smtp_server, OWNER, f"Renewal due by {END.isoformat()}"), timeout=60)

        feed = await http.post(f"{ops}/api/v1/calendar-feeds", headers=bearer("asset_manager"),
                               json={"scope": "site", "value": f"Plant 4 {run}"})
        assert feed.status_code == 201, feed.text

        async def deadlines_in_feed():
            ics = await http.get(f"{ops}/api/v1/calendar/{feed.json()['token']}.ics")
            assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
            calendar = icalendar.Calendar.from_ical(ics.content)
            dates = {component.decoded("dtstart") if "dtstart" in component else component.decoded("due")
                     for component in calendar.walk() if component.name in ("VEVENT", "VTODO")}
            wanted = {END - dt.timedelta(days=days) for days in (90, 60, 30, 0)}
            return dates if wanted <= {d.date() if isinstance(d, dt.datetime) else d for d in dates} else None

        await eventually(deadlines_in_feed, timeout=60)

        expiry = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(0, 0, 30), tzinfo=dt.UTC)
        moved = await http.put(f"{platform['lifecycle_scheduler']}/api/v1/ops/clock",
                               json={"now": expiry.isoformat()}, headers=bearer("sre"))
        assert moved.status_code == 200, moved.text

        async def expired():
            c = (await http.get(f"{ops}/api/v1/operational-contracts/{contract_id}", headers=bearer("finance"))).json()
            return c if c["state"] == "expired" else None

        await eventually(expired, timeout=60)
        lapsed = {k: e.event for k, e in (await events_on_kafka(stack, topics.ASSET_COVERAGE_ASSETS, set(assets),
                                                                    "CoverageLapsed")).items()}
        assert {e.on for e in lapsed.values()} == {END + dt.timedelta(days=1)}
        assert {e.reason for e in lapsed.values()} == {"contract_expired"}
        uncovered = (await http.get(f"{ops}/api/v1/uncovered-assets", headers=bearer("sales"),
                                    params={"on": (END + dt.timedelta(days=1)).isoformat(), "criticality": "critical",
                                            "limit": 500})).json()
        assert set(assets) <= {a["asset_id"] for a in uncovered["items"]}, uncovered


async def _mailed(smtp_server, address: str, subject_part: str) -> bool:
    return any(subject_part in (mail["Subject"] or "") for mail in smtp_server.mailbox.to(address))
