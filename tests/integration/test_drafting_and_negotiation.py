"""Drafting and negotiation on real PostgreSQL and Kafka, over HTTP: a request drafted from the
starter MSA (the EU and high-risk clauses selected, the .docx downloadable with its SHA-256), a
counterparty's edit of that .docx uploaded as version 2, compared clause by clause and as a
redline, its deviations flagged on Kafka; bad uploads and unresolved variables refused with
nothing stored."""

import asyncio
import hashlib
import io
import os
import uuid
import zipfile

import docx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from shared.backbone.tables import events as event_table
from shared.events import topics
from shared.events.envelope import from_kafka
from services.clm.application.library_starter import template_id
from tests.conftest import bearer, token

pytestmark = pytest.mark.integration

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UPLOAD_LIMIT = 300_000
CM, READER = bearer("contract_manager"), bearer("finance")
ANN = {"Authorization": f"Bearer {token('sales', subject='sales-ann')}"}
LENA = {"Authorization": f"Bearer {token('legal_counsel', subject='counsel-lena')}"}
VARIABLES = {"liability_cap": "EUR 1,000,000", "governing_law": "Germany", "payment_days": 30}
CONFIDENTIALITY = "Each party keeps the other party's confidential information confidential"
REWORDED = ("The customer may share any information it receives with its affiliates, advisers and subcontractors "
            "as it sees fit, and no duty of secrecy applies to it.")


@pytest_asyncio.fixture(scope="module")
async def clm(service_env):
    from tests.conftest import running_service

    async with running_service("clm", service_env("clm", UPLOAD_MAX_BYTES=str(UPLOAD_LIMIT))) as client:
        installed = await client.post("/api/v1/library/starter", headers=CM)
        assert installed.status_code == 200, installed.text
        yield client


async def requested(clm, **deal) -> str:
    """A submitted self-service request (state new) starting 2027-01-01 for 24 months."""
    contract_id = str(uuid.uuid4())
    body = {"contract_id": contract_id, "title": "Robot fleet service", "account": {"name": "ACME Robotics"},
            "currency": "EUR", "term_months": 24, "desired_start_date": "2027-01-01", "time_zone": "Europe/Berlin",
            "lines": [{"sku": "SUP", "product": "Support", "quantity": "1", "unit_price": "100000"}],
            "deal": {"region": "EU", "industry": "manufacturing", "risk_tier": "high", "data_residency": "EU", **deal}}
    created = await clm.post("/api/v1/contract-requests", json=body, headers=ANN)
    assert created.status_code == 201, created.text
    submitted = await clm.post(f"/api/v1/contract-requests/{contract_id}/submission", headers=ANN)
    assert submitted.status_code == 200, submitted.text
    return contract_id


async def draft(clm, contract_id: str, **body):
    return await clm.post(f"/api/v1/contracts/{contract_id}/draft", headers=LENA,
                          json={"template_id": str(template_id("msa")), "variables": VARIABLES, **body})


async def upload(clm, contract_id: str, content: bytes, origin: str = "counterparty_upload", headers=ANN):
    return await clm.post(f"/api/v1/contracts/{contract_id}/versions", headers=headers,
                          files={"file": ("theirs.docx", content, DOCX)}, data={"origin": origin})


async def stored(clm, contract_id: str) -> tuple[int, int]:
    """(documents stored, events of the contract)."""
    async with clm.app.state.context.engine.connect() as conn:
        documents = (await conn.execute(sa.text("select count(*) from documents"))).scalar_one()
        events = (await conn.execute(sa.select(sa.func.count()).select_from(event_table)
                                     .where(event_table.c.stream_id == contract_id))).scalar_one()
        return documents, events


def edited(original: bytes) -> bytes:
    """The counterparty's edit: confidentiality reworded, the liability cap halved."""
    document = docx.Document(io.BytesIO(original))
    for paragraph in document.paragraphs:
        if paragraph.text.startswith(CONFIDENTIALITY):
            paragraph.text = REWORDED
        elif "limited to EUR 1,000,000" in paragraph.text:
            paragraph.text = paragraph.text.replace("EUR 1,000,000", "EUR 500,000")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


async def kafka_events(stack, contract_id: str, wanted: set[str], timeout: float = 60) -> list:
    consumer = AIOKafkaConsumer(topics.CLM_CONTRACTS, **stack.kafka_admin.options(), group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    found = []
    try:
        async with asyncio.timeout(timeout):
            while not wanted <= {type(e).__name__ for e in found}:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    found += [from_kafka(m.headers, m.key, m.value, m.topic).event for m in messages
                              if m.key == contract_id.encode()]
    finally:
        await consumer.stop()
    return found


async def test_a_draft_from_the_starter_msa_negotiated_in_a_counterparty_upload(clm, stack):
    contract_id = await requested(clm)
    drafted = await draft(clm, contract_id)
    assert drafted.status_code == 201, drafted.text
    contract = drafted.json()
    assert (contract["contract_model"], contract["start_date"], contract["end_date"]) == ("msa", "2027-01-01", "2028-12-31")
    assert [p["role"] for p in contract["parties"]] == ["customer", "vendor"]
    assert contract["current_version"]["number"] == 1 and contract["template"]["kind"] == "msa"
    request = (await clm.get(f"/api/v1/contract-requests/{contract_id}", headers=READER)).json()
    assert request["state"] == "work_in_progress"

    first = (await clm.get(f"/api/v1/contracts/{contract_id}/versions/1", headers=READER)).json()
    headings = [c["heading"] for c in first["clauses"]]
    assert {"Data protection (EU)", "Additional liability", "Limitation of liability"} <= set(headings)
    assert first["origin"] == "generated" and first["variables"]["customer_name"] == "ACME Robotics"
    assert (first["terms"]["liability_cap"], first["terms"]["governing_law"]) == ("1000000", "Germany")

    download = await clm.get(f"/api/v1/contracts/{contract_id}/versions/1/document", headers=READER)
    assert download.status_code == 200 and download.headers["content-type"] == DOCX
    sha = hashlib.sha256(download.content).hexdigest()
    assert sha == contract["current_version"]["sha256"] == first["document"]["sha256"]
    assert download.headers["etag"] == f'"{sha}"'
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(download.content)).paragraphs)
    for clause in first["clauses"]:
        assert clause["text"].split("\n")[0] in text, clause["heading"]

    second = await upload(clm, contract_id, edited(download.content))
    assert second.status_code == 201, second.text
    version = second.json()
    assert (version["version_number"], version["origin"], version["author"]) == (2, "counterparty_upload", "sales-ann")
    by_heading = {c["heading"]: c for c in version["clauses"]}
    assert by_heading["Confidentiality"]["match"] == "non_standard" and by_heading["Confidentiality"]["score"] < 97
    assert by_heading["Limitation of liability"]["match"] == "standard"  # the wording is the library's
    assert by_heading["Data protection (EU)"]["match"] == "standard"
    assert version["terms"]["liability_cap"] == "500000"

    compared = (await clm.get(f"/api/v1/contracts/{contract_id}/comparison?from=1&to=2", headers=READER)).json()
    assert (compared["added"], compared["removed"], compared["changed"]) == (0, 0, 2)
    changed = {c["new"]["heading"]: c for c in compared["changes"] if c["kind"] == "changed"}
    assert set(changed) == {"Confidentiality", "Limitation of liability"}
    inserted = [w for op in changed["Limitation of liability"]["text_diff"] if op["op"] == "insert" for w in op["words"]]
    assert "500,000," in inserted

    redline = await clm.get(f"/api/v1/contracts/{contract_id}/redline?from=1&to=2", headers=READER)
    assert redline.status_code == 200 and redline.headers["content-type"] == DOCX
    with zipfile.ZipFile(io.BytesIO(redline.content)) as package:
        body = package.read("word/document.xml").decode()
    assert "<w:ins " in body and "<w:del " in body and 'w:author="sales-ann"' in body

    deviations = (await clm.get(f"/api/v1/contracts/{contract_id}/deviations", headers=READER)).json()
    assert {(d["kind"], d["heading"] or d["term"]) for d in deviations["open"]} == {
        ("non_standard_clause", "Confidentiality"), ("term_changed", "liability_cap")}
    cap = next(d for d in deviations["open"] if d["kind"] == "term_changed")
    assert (cap["before"], cap["after"]) == ("1000000", "500000")

    published = await kafka_events(stack, contract_id, {"ContractDrafted", "ContractVersionAdded", "DeviationFlagged"})
    flagged = [e for e in published if type(e).__name__ == "DeviationFlagged"]
    assert {e.kind for e in flagged} == {"non_standard_clause", "term_changed"}

    now = (await clm.get(f"/api/v1/contracts/{contract_id}", headers=READER)).json()
    assert now["current_version"] == {"number": 2, "sha256": version["document"]["sha256"], "author": "sales-ann"}
    assert (now["open_deviations"], now["classification"]) == (2, "high_risk")  # high risk already: not lowered
    listed = (await clm.get(f"/api/v1/contracts/{contract_id}/versions", headers=READER)).json()
    assert [v["version_number"] for v in listed] == [1, 2]

    terms = await clm.put(f"/api/v1/contracts/{contract_id}/negotiated-terms", headers=ANN,
                          json={"liability_cap": "750000", "auto_renewal": True})
    assert terms.status_code == 200, terms.text
    assert (terms.json()["terms"]["liability_cap"], terms.json()["terms"]["auto_renewal"]) == ("750000", True)


async def test_an_open_deviation_raises_a_standard_contract_to_non_standard(clm):
    contract_id = await requested(clm, risk_tier="low")
    assert (await clm.get(f"/api/v1/contract-requests/{contract_id}", headers=READER)).json()["classification"] == "standard"
    assert (await draft(clm, contract_id)).status_code == 201
    original = (await clm.get(f"/api/v1/contracts/{contract_id}/versions/1/document", headers=READER)).content
    assert (await upload(clm, contract_id, edited(original), origin="internal_edit", headers=LENA)).status_code == 201
    request = (await clm.get(f"/api/v1/contract-requests/{contract_id}", headers=READER)).json()
    assert request["classification"] == "non_standard"
    assert request["classification_reasons"][0]["rule"] == "classification.deviation_open"


async def test_bad_uploads_are_refused_and_leave_nothing_behind(clm):
    contract_id = await requested(clm)
    assert (await draft(clm, contract_id)).status_code == 201
    before = await stored(clm, contract_id)
    cases = [
        (os.urandom(4096), 422, "upload.not_docx"),
        (b"PK\x03\x04" + os.urandom(UPLOAD_LIMIT + 70_000), 413, "upload.too_large"),
        (b"PK\x03\x04" + os.urandom(UPLOAD_LIMIT - 10), 422, "upload.not_docx"),
        (zip_bomb(), 422, "upload.zip_bomb"),
    ]
    for content, status, rule in cases:
        response = await upload(clm, contract_id, content)
        assert (response.status_code, response.json()["rule"]) == (status, rule), response.text
    # The file alone above the limit, the form within the overhead: the reader's own check.
    response = await upload(clm, contract_id, b"PK\x03\x04" + os.urandom(UPLOAD_LIMIT + 10))
    assert (response.status_code, response.json()["rule"]) == (413, "upload.too_large")
    other = await clm.post(f"/api/v1/contracts/{contract_id}/versions", headers={**ANN, "content-type": "text/plain"},
                           content=b"hello")
    assert (other.status_code, other.json()["rule"]) == (415, "request.unsupported_media_type")
    no_origin = await clm.post(f"/api/v1/contracts/{contract_id}/versions", headers=ANN,
                               files={"file": ("x.docx", b"PK", DOCX)})
    assert (no_origin.status_code, no_origin.json()["rule"]) == (422, "request.invalid")
    forbidden = await upload(clm, contract_id, b"PK", headers=CM)
    assert (forbidden.status_code, forbidden.json()["required_roles"]) == (403, ["legal_counsel", "sales"])
    assert await stored(clm, contract_id) == before
    listed = (await clm.get(f"/api/v1/contracts/{contract_id}/versions", headers=READER)).json()
    assert [v["version_number"] for v in listed] == [1]


async def test_an_unresolved_variable_is_refused_naming_clause_and_variable_and_nothing_is_stored(clm):
    key = f"support_{uuid.uuid4().hex[:8]}"
    clause = await clm.post("/api/v1/clauses", headers=CM, json={
        "key": key, "title": "Support", "text": "Support is given {{ support_hours }} a day."})
    assert clause.status_code == 201, clause.text
    template = await clm.post("/api/v1/templates", headers=CM, json={
        "kind": "msa", "name": "MSA with support", "variables": [{"name": "support_hours", "required": False}],
        "sections": [{"heading": "Support", "slots": [{"clause_id": clause.json()["clause_id"]}]}]})
    assert template.status_code == 201, template.text
    contract_id = await requested(clm)
    before = await stored(clm, contract_id)
    refused = await draft(clm, contract_id, template_id=template.json()["template_id"])
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["rule"], body["clause"], body["variables"]) == ("draft.variable_unresolved", key, ["support_hours"])
    assert body["errors"][0]["field"] == "variables.support_hours"
    assert await stored(clm, contract_id) == before
    assert (await clm.get(f"/api/v1/contracts/{contract_id}/versions", headers=READER)).json() == []
    again = await draft(clm, contract_id, template_id=template.json()["template_id"],
                        variables={"support_hours": "24 hours"})
    assert again.status_code == 201, again.text
    assert (await draft(clm, contract_id)).json()["rule"] == "drafting.already_drafted"
