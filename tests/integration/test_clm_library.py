"""The clause and template library on real PostgreSQL and Kafka, over HTTP: clause versions,
templates refused for unknown clauses and conditions that do not compile (422 naming the clause),
pinned versions, the preview as JSON and as a stored .docx, and the starter library."""

import hashlib
import io
import uuid

import docx
import pytest
import sqlalchemy as sa

from tests.conftest import bearer, running_service

pytestmark = pytest.mark.integration

CM = bearer("contract_manager")
LEGAL = bearer("legal_counsel")
DEAL = {"region": "EU", "risk_tier": "high", "deal_size": "400000", "term_months": 36, "industry": "retail",
        "data_residency": "EU", "currency": "EUR"}
VARIABLES = {"customer_name": "ACME Robotics", "provider_name": "Initech", "effective_date": "2027-01-01",
             "term_months": 36, "governing_law": "Germany", "liability_cap": "EUR 1,000,000", "payment_days": 30}


@pytest.fixture
async def clm(service_env):
    async with running_service("clm", service_env("clm")) as client:
        yield client


def refused(response, status: int, rule: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule, body
    return body


async def new_clause(clm, key: str, text: str, **extra) -> dict:
    body = {"clause_id": str(uuid.uuid4()), "key": f"{key}_{uuid.uuid4().hex[:8]}", "title": key.title(), "text": text, **extra}
    response = await clm.post("/api/v1/clauses", json=body, headers=CM)
    assert response.status_code == 201, response.text
    return response.json()


def template_body(slots: list[dict], **extra) -> dict:
    return {"template_id": str(uuid.uuid4()), "kind": "msa", "name": "MSA", "sections": [{"heading": "Terms", "slots": slots}],
            "variables": [{"name": "liability_cap"}], **extra}


async def test_clauses_are_versioned_and_created_idempotently(clm):
    body = {"clause_id": str(uuid.uuid4()), "key": f"liability_{uuid.uuid4().hex[:8]}", "title": "Liability",
            "text": "Limited to {{ liability_cap }}.", "fallbacks": [{"name": "mutual", "text": "Both: {{ liability_cap }}."}]}
    first = await clm.post("/api/v1/clauses", json=body, headers=CM)
    assert first.status_code == 201 and first.json()["latest"]["variables"] == ["liability_cap"]
    again = await clm.post("/api/v1/clauses", json=body, headers=CM)
    assert again.status_code == 200 and again.headers["location"] == first.headers["location"]
    refused(await clm.post("/api/v1/clauses", json={**body, "title": "Other"}, headers=CM), 409, "clause.already_exists")
    refused(await clm.post("/api/v1/clauses", json={**body, "clause_id": str(uuid.uuid4())}, headers=CM), 409, "clause.key_taken")
    forbidden = refused(await clm.post("/api/v1/clauses", json=body, headers=LEGAL), 403, "auth.role_required")
    assert forbidden["required_roles"] == ["contract_manager"]

    cid = body["clause_id"]
    v2 = await clm.post(f"/api/v1/clauses/{cid}/versions", json={"title": "Liability", "text": "Unlimited."},
                        headers={**CM, "If-Match": '"1"'})
    assert v2.status_code == 201 and v2.json()["version"] == 2 and v2.headers["etag"] == '"2"'
    stale = await clm.post(f"/api/v1/clauses/{cid}/versions", json={"title": "x", "text": "y"}, headers={**CM, "If-Match": '"1"'})
    refused(stale, 409, "stream.version_conflict")
    old = await clm.get(f"/api/v1/clauses/{cid}/versions/1", headers=bearer("sales"))
    assert old.status_code == 200 and old.json()["text"] == "Limited to {{ liability_cap }}."
    assert (await clm.get(f"/api/v1/clauses/{cid}/versions/9", headers=CM)).status_code == 404
    listed = (await clm.get("/api/v1/clauses", params={"limit": 500}, headers=bearer("finance"))).json()
    assert {"clause_id": cid, "key": body["key"], "title": "Liability", "latest_version": 2} in listed["items"]


async def test_a_template_naming_an_unknown_clause_or_a_bad_condition_is_refused_naming_it(clm):
    liability = await new_clause(clm, "liability", "Limited to {{ liability_cap }}.")
    unknown = refused(await clm.post("/api/v1/templates", json=template_body([{"clause_id": str(uuid.uuid4())}]), headers=CM),
                      422, "template.clause_unknown")
    assert unknown["errors"][0]["field"] == "sections[0].slots[0].clause_id"
    bad = template_body([{"clause_id": liability["clause_id"], "include_when": 'regon == "EU"'}])
    body = refused(await clm.post("/api/v1/templates", json=bad, headers=CM), 422, "template.condition_invalid")
    assert body["clause"] == liability["key"] and "regon" in body["error"] and liability["key"] in body["detail"]
    assert body["errors"][0]["field"] == "sections[0].slots[0].include_when"
    syntax = template_body([{"clause_id": liability["clause_id"], "variants": [{"when": "deal_size >", "use": "x"}]}])
    assert "does not parse" in refused(await clm.post("/api/v1/templates", json=syntax, headers=CM), 422,
                                       "template.condition_invalid")["error"]


async def test_a_new_clause_version_leaves_a_pinned_template_version_as_it_was(clm):
    liability = await new_clause(clm, "liability", "Limited to {{ liability_cap }}.")
    eu = await new_clause(clm, "eu_data", "Article 28 GDPR applies.")
    body = template_body([{"clause_id": liability["clause_id"]},
                          {"clause_id": eu["clause_id"], "include_when": 'region == "EU"'}])
    created = await clm.post("/api/v1/templates", json=body, headers=CM)
    assert created.status_code == 201, created.text
    tid = body["template_id"]
    await clm.post(f"/api/v1/clauses/{liability['clause_id']}/versions", json={"title": "L", "text": "Unlimited."}, headers=CM)

    preview = await clm.post(f"/api/v1/templates/{tid}/versions/1/preview", headers=LEGAL,
                             json={"deal": {"region": "EU"}, "variables": {"liability_cap": "EUR 1m"}})
    assert preview.status_code == 200, preview.text
    assert [(c["text"], c["clause_version"]) for c in preview.json()["clauses"]] == [("Limited to EUR 1m.", 1),
                                                                                     ("Article 28 GDPR applies.", 1)]
    us = await clm.post(f"/api/v1/templates/{tid}/versions/1/preview", headers=LEGAL,
                        json={"deal": {"region": "US"}, "variables": {"liability_cap": "EUR 1m"}})
    assert [c["clause_id"] for c in us.json()["clauses"]] == [liability["clause_id"]]
    v2 = await clm.post(f"/api/v1/templates/{tid}/versions", headers=CM, json={k: body[k] for k in ("name", "sections", "variables")})
    assert v2.status_code == 201 and v2.json()["latest"]["sections"][0]["slots"][0]["clause_version"] == 2
    unresolved = await clm.post(f"/api/v1/templates/{tid}/versions/1/preview", headers=LEGAL,
                                json={"deal": {"region": "EU"}, "variables": {}})
    refused(unresolved, 422, "draft.variable_required")
    refused(await clm.post(f"/api/v1/templates/{tid}/versions/1/preview", headers=bearer("sales"), json={}), 403,
            "auth.role_required")


async def test_the_starter_msa_picks_the_eu_and_high_risk_clauses_and_downloads_as_docx(clm):
    first = await clm.post("/api/v1/library/starter", headers=CM)
    assert first.status_code == 200, first.text
    again = (await clm.post("/api/v1/library/starter", headers=CM)).json()
    assert again["created"] == 0 and set(again["templates"]) == {"nda", "msa", "sow", "order_form", "dpa"}
    msa = again["templates"]["msa"]
    body = {"deal": DEAL, "variables": VARIABLES, "title": "MSA ACME",
            "parties": [{"role": "customer", "name": "ACME Robotics"}, {"role": "vendor", "name": "Initech"}]}
    selected = (await clm.post(f"/api/v1/templates/{msa}/versions/1/preview", json=body, headers=LEGAL)).json()["clauses"]
    headings = [c["heading"] for c in selected]
    assert "Data protection (EU)" in headings and "Additional liability" in headings and "Payment by milestones" in headings
    assert "Payment" not in headings

    answer = await clm.post(f"/api/v1/templates/{msa}/versions/1/preview", params={"format": "docx"}, json=body, headers=LEGAL)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert hashlib.sha256(answer.content).hexdigest() == answer.headers["x-document-sha256"]
    word = docx.Document(io.BytesIO(answer.content))
    text = "\n".join(p.text for p in word.paragraphs)
    assert all(c["text"] in text for c in selected)

    download = await clm.get(answer.headers["location"], headers=bearer("sales"))
    assert download.status_code == 200 and download.content == answer.content
    async with clm.app.state.context.engine.connect() as conn:
        row = (await conn.execute(sa.text("SELECT sha256, size, store, length(content) AS stored FROM documents"
                                          " WHERE document_id = :d"), {"d": answer.headers["x-document-id"]})).one()
    assert (row.sha256, row.size, row.store, row.stored) == (answer.headers["x-document-sha256"], len(answer.content),
                                                              "postgres", len(answer.content))
    assert (await clm.get(f"/api/v1/documents/{uuid.uuid4()}", headers=CM)).status_code == 404


async def test_the_order_form_needs_the_quote_lines_for_its_pricing_appendix(clm):
    starter = (await clm.post("/api/v1/library/starter", headers=CM)).json()
    order_form = starter["templates"]["order_form"]
    body = {"deal": DEAL, "variables": VARIABLES}
    refused(await clm.post(f"/api/v1/templates/{order_form}/versions/1/preview", json=body, headers=LEGAL), 422,
            "draft.pricing_missing")
    lines = [{"sku": "SUP", "product": "Support", "quantity": "2", "unit_price": "1200.00", "discount_percent": "10",
              "net_amount": "2160.00"}, {"sku": "ROB", "product": "Robot cell", "quantity": 1, "unit_price": "5000.00",
                                         "net_amount": "5000.00"}]
    answer = await clm.post(f"/api/v1/templates/{order_form}/versions/1/preview", headers=LEGAL,
                            json={**body, "pricing": {"currency": "EUR", "lines": lines}})
    assert answer.status_code == 200 and answer.json()["pricing_total"] == "7160.00"
