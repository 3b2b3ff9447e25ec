"""Spreadsheet imports on the real PostgreSQL and Kafka (asset_coverage's /api/v1/imports): a job per
upload running in the service, good rows committed and bad rows reported (row, column, reason,
value), re-imports changing nothing, progress while a 10,000-row file runs, the report as CSV and
XLSX, and the files refused before any job starts."""

import asyncio
import csv
import datetime as dt
import io
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from openpyxl import Workbook, load_workbook

from shared.events import topics
from shared.events.envelope import from_kafka
from services.asset_coverage.domain.operational_contract.terms import vendor_contract_id
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration

ASSET_MANAGER = bearer("asset_manager")
CONTRACT_HEADER = ["Number", "Vendor", "Vendor contract number", "Name", "Contract model", "Start date", "End date",
                   "Response hours", "Payment amount", "Currency", "Owners"]


@pytest.fixture
async def asset_coverage(service_env):
    async with running_service("asset_coverage", service_env("asset_coverage")) as client:
        yield client


def xlsx(header: list, rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def contract_rows(vendor: str, count: int = 12) -> list[list]:
    kinds = ["maintenance", "warranty", "support"]
    return [[f"OPS-{i}", vendor, f"VC-{i:03}", f"Robot and PLC care {i}", kinds[i % 3], dt.date(2026, 1, 1),
             dt.date(2027, 12, 31), 4, "1200.00", "EUR", "ops@example.com"] for i in range(1, count + 1)]


async def upload(client, kind: str, content: bytes, filename: str = "file.xlsx", headers=ASSET_MANAGER):
    return await client.post(f"/api/v1/imports/{kind}", files={"file": (filename, content)}, headers=headers)


async def finished(client, response, seen: list | None = None, timeout: float = 120) -> dict:
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location == f"/api/v1/imports/{response.json()['job_id']}"
    async with asyncio.timeout(timeout):
        while True:
            job = (await client.get(location, headers=ASSET_MANAGER)).json()
            if seen is not None:
                seen.append(job)
            if job["state"] in ("completed", "failed"):
                return job
            await asyncio.sleep(0.05)


async def report(client, job: dict, format: str = "csv") -> list[list]:
    response = await client.get(f"{job['report']}?format={format}", headers=bearer("contract_manager"))
    assert response.status_code == 200, response.text
    if format == "csv":
        return list(csv.reader(io.StringIO(response.text)))
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def events_of(client, stream_ids: list[str]) -> list[tuple[str, str]]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT stream_id, event_type FROM events WHERE stream_id = ANY(:ids)"
                                          " ORDER BY position"), {"ids": stream_ids})
        return [tuple(r) for r in rows]


async def all_jobs(client) -> list[dict]:
    """Every job, page by page (two per page: the cursor is used)."""
    jobs, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/imports", params=params, headers=ASSET_MANAGER)).json()
        jobs += page["items"]
        if not (cursor := page["next_cursor"]):
            return [{k: j[k] for k in ("job_id", "state")} for j in jobs]


def refused(response, status: int, rule: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule, body
    return body


async def registered_on_kafka(stack, contract_id: str) -> dict:
    consumer = AIOKafkaConsumer(topics.ASSET_COVERAGE, **stack.kafka_admin.options(), group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    for m in messages:
                        envelope = from_kafka(m.headers, m.key, m.value)
                        if envelope.key == contract_id and envelope.event.event_type == "VendorContractRegistered":
                            return envelope.event.model_dump(mode="json")
    finally:
        await consumer.stop()


async def test_twelve_contracts_with_two_bad_rows_then_a_reimport_then_a_changed_row(asset_coverage, stack):
    vendor = f"KUKA {uuid.uuid4().hex[:6]}"
    rows = contract_rows(vendor)
    rows[3][5] = "03/04/2026"  # row 5: an ambiguous date
    rows[8][8] = "=B2*12"  # row 10: a formula where an amount is expected
    content = xlsx(CONTRACT_HEADER, rows)
    job = await finished(asset_coverage, await upload(asset_coverage, "contracts", content))
    assert job["state"] == "completed", job
    assert job["accepted"] == {"created": 10, "updated": 0, "unchanged": 0, "total": 10}
    assert (job["rejected"], job["rows_read"], job["total_rows"], job["percentage"]) == (2, 12, 12, 100.0)
    assert await report(asset_coverage, job) == [["row", "column", "reason", "value"],
                                                 ["5", "start_date", "ambiguous date", "03/04/2026"],
                                                 ["10", "payment_amount", "formula where a value is expected", "=B2*12"]]
    ids = [str(vendor_contract_id(vendor, f"VC-{i:03}")) for i in range(1, 13)]
    first = await events_of(asset_coverage, ids)
    assert [t for _, t in first] == ["VendorContractRegistered"] * 10
    assert ids[3] not in {s for s, _ in first} and ids[8] not in {s for s, _ in first}
    on_kafka = await registered_on_kafka(stack, ids[0])
    assert on_kafka["terms"]["vendor_contract_number"] == "VC-001" and on_kafka["operational"]["owners"] == ["ops@example.com"]

    again = await finished(asset_coverage, await upload(asset_coverage, "contracts", content))
    assert again["accepted"] == {"created": 0, "updated": 0, "unchanged": 10, "total": 10} and again["rejected"] == 2
    assert await events_of(asset_coverage, ids) == first

    rows[0][8] = "1300.00"
    changed = await finished(asset_coverage, await upload(asset_coverage, "contracts", xlsx(CONTRACT_HEADER, rows)))
    assert changed["accepted"] == {"created": 0, "updated": 1, "unchanged": 9, "total": 10}
    assert (await events_of(asset_coverage, ids))[len(first):] == [(ids[0], "OperationalTermsSet")]


async def test_a_10000_row_file_shows_its_progress_and_its_report_downloads_as_xlsx_and_csv(asset_coverage):
    prefix = uuid.uuid4().hex[:6]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Asset tag", "Kind", "Name", "Site", "Criticality"])
    for i in range(1, 10_001):
        sheet.append([f"{prefix}-R{i}", "robot" if i % 1000 else "spaceship", f"Welding robot {i}", "Plant 4", "high"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    seen: list[dict] = []
    job = await finished(asset_coverage, await upload(asset_coverage, "assets", buffer.getvalue()), seen)
    assert job["state"] == "completed", job
    assert job["accepted"]["created"] == 9_990 and job["rejected"] == 10 and job["total_rows"] == 10_000
    async with asset_coverage.app.state.context.engine.connect() as conn:
        batches = (await conn.execute(sa.text("SELECT batches FROM import_jobs WHERE job_id = :j"),
                                      {"j": job["job_id"]})).scalar_one()
    assert batches == 20  # the job's row followed each batch of 500, never each row
    running = [j["percentage"] for j in seen if j["state"] == "running" and 0 < j["rows_read"] < 10_000]
    assert running == sorted(running) and all(0 < p < 100 for p in running)

    as_xlsx, as_csv = await report(asset_coverage, job, "xlsx"), await report(asset_coverage, job, "csv")
    assert as_xlsx[0] == as_csv[0] == ["row", "column", "reason", "value"]
    assert [r[:2] for r in as_xlsx[1:]] == [[1000 * k + 1, "kind"] for k in range(1, 11)]
    assert [r[:2] for r in as_csv[1:]] == [[str(1000 * k + 1), "kind"] for k in range(1, 11)]
    assert all(r[3] == "spaceship" and "robot" in r[2] for r in as_xlsx[1:])

    assert job["job_id"] in [j["job_id"] for j in await all_jobs(asset_coverage)]


async def test_links_by_vendor_key_to_registered_assets_and_a_reimport_changes_nothing(asset_coverage):
    vendor, prefix = f"ABB {uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:6]
    await finished(asset_coverage, await upload(asset_coverage, "contracts", xlsx(CONTRACT_HEADER, contract_rows(vendor, 1))))
    assets = "asset_id;kind;name\n" + "".join(f"{prefix}-P{i};PLC;Line PLC {i}\n" for i in range(1, 6))
    created = await finished(asset_coverage, await upload(asset_coverage, "assets", ("\ufeff" + assets).encode(), "a.csv"))
    assert created["accepted"]["created"] == 5 and created["format"] == "csv"
    links = "vendor\tvendor contract number\tasset id\teffective from\teffective to\n" + "".join(
        f"{vendor}\tVC-001\t{prefix}-P{i}\t2026-02-01\t\n" for i in range(1, 6)) + f"{vendor}\tVC-001\t{prefix}-X\t\t\n"
    job = await finished(asset_coverage, await upload(asset_coverage, "links", links.encode(), "links.tsv"))
    assert job["accepted"]["created"] == 5 and job["rejected"] == 1
    assert (await report(asset_coverage, job))[1][:2] == ["7", "asset_id"]
    contract_id = vendor_contract_id(vendor, "VC-001")
    coverage = (await asset_coverage.get(f"/api/v1/contracts/{contract_id}/assets", headers=ASSET_MANAGER)).json()
    assert sorted(a["asset_id"] for a in coverage["assets"]) == [f"{prefix}-P{i}" for i in range(1, 6)]
    again = await finished(asset_coverage, await upload(asset_coverage, "links", links.encode(), "links.tsv"))
    assert again["accepted"] == {"created": 0, "updated": 0, "unchanged": 5, "total": 5}


async def test_a_key_repeated_in_one_file_is_reported_as_a_duplicate(asset_coverage):
    prefix = uuid.uuid4().hex[:6]
    content = f"asset_id,kind,name\n{prefix}-1,server,A\n{prefix}-2,server,B\n{prefix}-1,server,C\n".encode()
    job = await finished(asset_coverage, await upload(asset_coverage, "assets", content, "a.csv"))
    assert job["accepted"]["created"] == 2
    assert (await report(asset_coverage, job))[1:] == [["4", "asset_id", "duplicate of row 2", f"{prefix}-1"]]


@pytest.mark.parametrize("content, rule", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "import.not_a_spreadsheet"),
    ("Name;Vorname\nM\xfcller;J\xfcrgen\n".encode("latin-1"), "import.not_a_spreadsheet"),
    (b"", "import.no_header"),
    (b"R-1,robot,Welding robot\n", "import.no_header"),
    (b"asset_id,kind,name,colour\nR-1,robot,Welder,red\n", "import.unknown_columns"),
    (b"asset_id,name\nR-1,Welder\n", "import.missing_columns"),
])
async def test_bad_files_are_refused_before_any_job_starts(asset_coverage, content, rule):
    before = await all_jobs(asset_coverage)
    body = refused(await upload(asset_coverage, "assets", content, "f.csv"), 422, rule)
    assert body["errors"][0]["field"] == "file"
    if rule == "import.unknown_columns":
        assert body["unknown_columns"] == ["colour"] and body["missing_columns"] == []
    if rule == "import.missing_columns":
        assert body["missing_columns"] == ["kind"]
    assert await all_jobs(asset_coverage) == before


async def test_only_an_asset_manager_imports(asset_coverage):
    response = await upload(asset_coverage, "assets", b"asset_id,kind,name\n", headers=bearer("contract_manager"))
    assert response.status_code == 403, response.text


async def test_a_file_over_the_limit_is_refused_with_413_naming_it(service_env):
    env = service_env("asset_coverage", IMPORT_MAX_BYTES="2048")
    async with running_service("asset_coverage", env) as client:
        content = b"asset_id,kind,name\n" + b"".join(b"R-%d,robot,Welding robot\n" % i for i in range(500))
        body = refused(await upload(client, "assets", content, "big.csv"), 413, "import.too_large")
        assert body["limit_bytes"] == 2048 and "2048 bytes" in body["detail"]
        small = await finished(client, await upload(client, "assets", content[:1000].rsplit(b"\n", 1)[0], "s.csv"))
        assert small["state"] == "completed"


async def test_a_job_whose_instance_stopped_heartbeating_is_failed_not_left_running(asset_coverage):
    """A crash leaves a job running on an instance that is gone; any instance's sweep fails it."""
    job_id = uuid.uuid4()
    async with asset_coverage.app.state.context.engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO import_jobs (job_id, kind, state, format, instance, created_at, started_at, heartbeat_at,"
            " rows_read, created, updated, unchanged, rejected, batches, file_path)"
            " VALUES (:j, 'assets', 'running', 'csv', 'crashed-host:1:x', now(), now(), now() - interval '1 hour',"
            " 500, 500, 0, 0, 0, 1, '/nowhere/gone.csv')"), {"j": job_id})

    async def failed():
        job = (await asset_coverage.get(f"/api/v1/imports/{job_id}", headers=ASSET_MANAGER)).json()
        return job if job["state"] == "failed" else None

    job = await eventually(failed, timeout=30)
    assert "stopped" in job["error"] and "upload the file again" in job["error"] and job["rows_read"] == 500
    assert job["finished_at"] is not None


async def test_the_import_paths_are_not_taken_for_job_ids(asset_coverage):
    response = await asset_coverage.get("/api/v1/imports/links", headers=ASSET_MANAGER)
    assert response.status_code == 405 and response.headers["allow"] == "POST", response.text
    assert (await asset_coverage.get(f"/api/v1/imports/{uuid.uuid4()}", headers=ASSET_MANAGER)).status_code == 404
