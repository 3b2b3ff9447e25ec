"""Phases 4-6 end to end (issue 13), every service its own process, driven over HTTP only.

A quote above the finance threshold -> its contract drafted from the starter MSA, the counterparty's
upload rewording a clause (non-standard) -> submitted by Sales: the standard matrix asks legal
counsel and finance, in parallel -> a sales user cannot approve -> finance approves, legal stalls:
the scheduler's clock past the step's SLA escalates it to sales leadership, who approves -> signed in
routing order by two signers through the links mailed by the real SMTP server -> executed (signed
copy and audit certificate stored) -> a forged DocuSign webhook is refused -> the scheduler's clock
at the start date activates it -> order sync's order and service contract carry the quote's
products, quantities, prices, dates and the catalogue's entitlements -> reconciled; the shared
record shows every step of it.
"""

import datetime as dt
import hashlib
import io
import re
import uuid

import docx
import httpx
import pytest

from services.clm.domain.contract.intake import QUOTE_NAMESPACE
from services.order_sync.domain.order import ORDER_NAMESPACE
from tests.conftest import eventually, token
from tests.platform import running_platform

pytestmark = pytest.mark.e2e


def _as(role: str, subject: str) -> dict:
    return {"Authorization": f"Bearer {token(role, subject=subject)}"}


SALES = _as("sales", "sales-maria")
SALES_OPS = _as("sales_ops", "ops-sam")
MANAGER = _as("contract_manager", "cm-jonas")
COUNSEL = _as("legal_counsel", "counsel-lena")
FINANCE = _as("finance", "fin-fay")
LEADER = _as("sales_leadership", "vp-sales-vic")
SRE = _as("sre", "sre-sid")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LINK = re.compile(r"/sign/([A-Za-z0-9_\-]+)")
FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]+)"')
START, END = dt.date(2027, 1, 1), dt.date(2028, 12, 31)  # 24 months from the start
REWORDED = ("Each party may disclose information it receives under this agreement to its affiliates, advisers and "
            "subcontractors whenever it considers that useful, and no duty of secrecy survives the end of the agreement.")


@pytest.fixture(scope="module")
def platform(service_env, tmp_path_factory):
    with running_platform(service_env, tmp_path_factory.mktemp("approval-flow-logs")) as running:
        yield running.urls


def quote_body(quote_id: str, support: str, onboarding: str) -> dict:
    """270,000 of support at 10 % off and onboarding: above the standard matrix's 250,000."""
    return {
        "quote_id": quote_id,
        "account": {"account_id": f"ACC-{quote_id[:6]}", "name": "ACME Robotics"},
        "opportunity_id": f"OPP-{quote_id[:6]}", "currency": "EUR", "term_months": 24, "billing_frequency": "annual",
        "valid_until": (dt.date.today() + dt.timedelta(days=60)).isoformat(), "time_zone": "Europe/Berlin",
        "region": "EU", "industry": "manufacturing", "risk_tier": "medium", "data_residency": "EU",
        "lines": [
            {"sku": support, "product": "Premium support", "quantity": "100", "unit_price": "3000.00",
             "discount_percent": "10", "start_date": START.isoformat(), "end_date": END.isoformat()},
            {"sku": onboarding, "product": "Onboarding", "quantity": "2", "unit_price": "1500.00"},
        ],
    }


def reworded(original: bytes, first_line: str) -> bytes:
    document = docx.Document(io.BytesIO(original))
    edited = [p for p in document.paragraphs if p.text == first_line]
    assert len(edited) == 1, "the paragraph to reword was not found"
    edited[0].text = REWORDED
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def test_a_large_non_standard_contract_from_approval_to_reconciled_entitlements(platform, smtp_server):
    clm, order_sync, scheduler, projection = (platform[n] for n in ("clm", "order_sync", "lifecycle_scheduler",
                                                                    "projection"))
    run = uuid.uuid4().hex[:6].upper()
    support, onboarding = f"SUP-PREM-{run}", f"ONB-{run}"
    async with httpx.AsyncClient(timeout=30) as http:
        # Sales Ops maps both SKUs to entitlements in order sync's catalogue.
        for sku, product, entitlements in (
                (support, "Premium support", [{"name": "premium-support", "support_level": "gold", "sla": "4h response",
                                               "features": ["hotline"], "usage_limit": 2, "usage_unit": "incidents"}]),
                (onboarding, "Onboarding", [{"name": "onboarding-workshop", "support_level": "standard"}])):
            mapped = await http.put(f"{order_sync}/api/v1/catalogue/{sku}", headers=SALES_OPS,
                                    json={"product": product, "entitlements": entitlements})
            assert mapped.status_code in (200, 201), mapped.text

        # The quote, approved by the customer, opens the request; legal counsel drafts it from the MSA.
        library = (await http.post(f"{clm}/api/v1/library/starter", headers=MANAGER)).json()
        quote_id = str(uuid.uuid4())
        created = await http.post(f"{order_sync}/api/v1/quotes", json=quote_body(quote_id, support, onboarding),
                                  headers=SALES)
        assert created.status_code == 201, created.text
        approved_quote = await http.post(f"{order_sync}/api/v1/quotes/{quote_id}/approval",
                                         headers={**SALES, "If-Match": f'"{created.json()["version"]}"'})
        assert approved_quote.status_code == 200, approved_quote.text
        contract_id = str(uuid.uuid5(QUOTE_NAMESPACE, quote_id))

        async def requested():
            r = await http.get(f"{clm}/api/v1/contract-requests/{contract_id}", headers=COUNSEL)
            return r.json() if r.status_code == 200 else None

        await eventually(requested, timeout=90)
        drafted = await http.post(f"{clm}/api/v1/contracts/{contract_id}/draft", headers=COUNSEL, json={
            "template_id": library["templates"]["msa"], "start_date": START.isoformat(),
            "variables": {"liability_cap": "EUR 1,000,000", "governing_law": "Germany", "payment_days": 30}})
        assert drafted.status_code == 201, drafted.text
        assert (drafted.json()["start_date"], drafted.json()["end_date"]) == (START.isoformat(), END.isoformat())

        # The counterparty rewords confidentiality: version 2 has a non-standard clause.
        first = (await http.get(f"{clm}/api/v1/contracts/{contract_id}/versions/1", headers=COUNSEL)).json()
        confidentiality = next(c for c in first["clauses"] if c["clause_id"] == library["clauses"]["confidentiality"])
        original = (await http.get(f"{clm}/api/v1/contracts/{contract_id}/versions/1/document", headers=COUNSEL)).content
        uploaded = await http.post(f"{clm}/api/v1/contracts/{contract_id}/versions", headers=SALES,
                                   files={"file": ("acme.docx", reworded(original, confidentiality["text"].split("\n")[0]),
                                                   DOCX)},
                                   data={"origin": "counterparty_upload"})
        assert uploaded.status_code == 201, uploaded.text
        assert "non_standard" in {c["match"] for c in uploaded.json()["clauses"]}

        # Sales submits it: legal counsel and finance, in parallel, by the standard matrix.
        submitted = await http.post(f"{clm}/api/v1/contracts/{contract_id}/approval/submit", headers=SALES, json={})
        assert submitted.status_code == 200, submitted.text
        routed = submitted.json()
        assert (routed["request_state"], routed["version_number"]) == ("awaiting_approval", 2)
        steps = {s["name"]: s for s in routed["steps"]}
        assert set(steps) == {"Legal review", "Finance review"}
        legal, finance = steps["Legal review"], steps["Finance review"]
        assert legal["approvers"] == [{"kind": "role", "value": "legal_counsel"}]
        assert finance["approvers"] == [{"kind": "role", "value": "finance"}]
        assert {s["state"] for s in steps.values()} == {"open"} and legal["sequence"] == finance["sequence"]

        approvals = f"{clm}/api/v1/contracts/{contract_id}/approvals"
        refused = await http.post(f"{approvals}/{legal['step_id']}/approve", headers=SALES, json={"comment": "ok"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["rule"] == "approval.role_not_allowed"
        granted = await http.post(f"{approvals}/{finance['step_id']}/approve", headers=FINANCE,
                                  json={"comment": "margin fine"})
        assert granted.status_code == 200, granted.text

        # Legal stalls: the scheduler's clock just past the step's deadline escalates it, once.
        due = dt.datetime.fromisoformat(legal["due_at"])
        moved = await http.put(f"{scheduler}/api/v1/ops/clock", headers=SRE,
                               json={"now": (due + dt.timedelta(minutes=1)).isoformat()})
        assert moved.status_code == 200, moved.text

        async def escalated():
            step = next(s for s in (await http.get(approvals, headers=COUNSEL)).json()["steps"]
                        if s["step_id"] == legal["step_id"])
            return step if step["level"] == 1 else None

        stalled = await eventually(escalated, timeout=60)
        assert stalled["approvers"] == [{"kind": "role", "value": "sales_leadership"}]
        assert [(e["from_level"], e["to_level"]) for e in stalled["escalations"]] == [(0, 1)]
        assert stalled["state"] == "open"
        done = await http.post(f"{approvals}/{legal['step_id']}/approve", headers=LEADER, json={"comment": "go"})
        assert done.status_code == 200, done.text
        assert (done.json()["request_state"], done.json()["approved_version"]) == ("awaiting_signature", 2)

        # Two signers in routing order, each through the link mailed to them.
        tag = run.lower()
        customer, internal = f"ann.{tag}@acme.example", f"jonas.{tag}@example.com"
        sent = await http.post(f"{clm}/api/v1/contracts/{contract_id}/signature", headers=MANAGER, json={
            "signers": [{"name": "Ann Buyer", "email": customer, "role": "customer", "routing_order": 1},
                        {"name": "Jonas Seller", "email": internal, "role": "internal", "routing_order": 2}],
            "deadline": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat(), "reminder_every_days": 7})
        assert sent.status_code == 201, sent.text
        assert sent.json()["version_number"] == 2
        assert {s["email"]: s["status"] for s in sent.json()["signers"]} == {customer: "invited", internal: "waiting"}
        await sign(http, clm, smtp_server, customer, "Ann Buyer")
        await sign(http, clm, smtp_server, internal, "Jonas Seller")

        async def executed():
            r = (await http.get(f"{clm}/api/v1/contracts/{contract_id}/signature", headers=COUNSEL)).json()
            return r if r["status"] == "completed" else None

        signature = await eventually(executed, timeout=60)
        assert [(s["name"], s["status"], s["typed_name"]) for s in sorted(signature["signers"], key=lambda s: s["routing_order"])] == [
            ("Ann Buyer", "signed", "Ann Buyer"), ("Jonas Seller", "signed", "Jonas Seller")]
        first_signed, second_signed = (dt.datetime.fromisoformat(s["signed_at"])
                                       for s in sorted(signature["signers"], key=lambda s: s["routing_order"]))
        assert first_signed <= second_signed
        signed_copy = await http.get(f"{clm}/api/v1/contracts/{contract_id}/signature/signed-copy", headers=COUNSEL)
        certificate = await http.get(f"{clm}/api/v1/contracts/{contract_id}/signature/audit-certificate", headers=COUNSEL)
        assert signed_copy.status_code == 200 and certificate.status_code == 200
        assert certificate.content.startswith(b"%PDF")

        # A forged DocuSign Connect notification changes nothing.
        forged = await http.post(f"{clm}/api/v1/signature-webhooks/docusign", content=b'{"event": "envelope-voided"}',
                                 headers={"Content-Type": "application/json", "X-DocuSign-Signature-1": "Zm9yZ2Vk"})
        assert forged.status_code == 401, forged.text
        assert (await http.get(f"{clm}/api/v1/contracts/{contract_id}/signature", headers=COUNSEL)).json()["status"] == "completed"

        # The start date (midnight in Berlin) activates it; order sync turns it into the order and service contract.
        moved = await http.put(f"{scheduler}/api/v1/ops/clock", headers=SRE,
                               json={"now": dt.datetime(2027, 1, 1, 0, 0, 30, tzinfo=dt.UTC).isoformat()})
        assert moved.status_code == 200, moved.text

        async def activated():
            r = (await http.get(f"{clm}/api/v1/contract-requests/{contract_id}", headers=COUNSEL)).json()
            return r if r["state"] == "closed_complete" else None

        await eventually(activated, timeout=60)
        order_id = str(uuid.uuid5(ORDER_NAMESPACE, contract_id))

        async def fulfilled():
            r = await http.get(f"{order_sync}/api/v1/orders/{order_id}", headers=SALES_OPS)
            return r.json() if r.status_code == 200 and r.json()["state"] == "fulfilled" else None

        order = await eventually(fulfilled, timeout=60)
        assert order["service_contract_id"] == contract_id
        service = (await http.get(f"{order_sync}/api/v1/service-contracts/{contract_id}", headers=SALES_OPS)).json()
        assert (service["start_date"], service["end_date"]) == (START.isoformat(), END.isoformat())
        lines = {line["product"]: line for line in service["lines"]}
        assert {p: (line["quantity"], float(line["unit_price"]), line["start_date"], line["end_date"])
                for p, line in lines.items()} == {
            "Premium support": (100, 3000.0, START.isoformat(), END.isoformat()),
            "Onboarding": (2, 1500.0, START.isoformat(), END.isoformat())}
        by_name = {e["name"]: e for e in service["entitlements"]}
        assert set(by_name) == {"premium-support", "onboarding-workshop"}
        assert (by_name["premium-support"]["support_level"], by_name["premium-support"]["sla"],
                by_name["premium-support"]["usage_limit"]) == ("gold", "4h response", 200)  # 2 per unit x 100
        assert by_name["premium-support"]["line_id"] == lines["Premium support"]["line_id"]

        async def reconciled():
            r = await http.get(f"{order_sync}/api/v1/reconciliation/{contract_id}", headers=SALES_OPS)
            return r.json() if r.status_code == 200 and r.json()["state"] == "reconciled" else None

        reconciliation = await eventually(reconciled, timeout=90)
        assert reconciliation["differences"] == []

        # The shared record: approvals, signature, the executed hash, order, service contract, reconciliation.
        async def recorded():
            r = await http.get(f"{projection}/api/v1/contracts/{contract_id}", headers=COUNSEL)
            record = r.json() if r.status_code == 200 else {}
            return record if (record.get("reconciliation") or {}).get("state") == "reconciled" else None

        record = await eventually(recorded, timeout=90)
        assert record["approval"]["state"] == "approved" and record["approval"]["approved_version"] == 2
        decided = {s["name"]: (s["decided_by"], s["level"]) for s in record["approval"]["steps"]}
        assert decided == {"Legal review": ("vp-sales-vic", 1), "Finance review": ("fin-fay", 0)}
        assert record["signature"]["state"] == "executed"
        assert {s["state"] for s in record["signature"]["signers"]} == {"signed"}
        assert record["execution"]["signed_document"]["sha256"] == hashlib.sha256(signed_copy.content).hexdigest()
        assert record["activation"]["state"] == "activated"
        assert (record["order"]["order_id"], record["order"]["state"]) == (order_id, "fulfilled")
        assert record["service_contract_id"] == contract_id


async def sign(http: httpx.AsyncClient, clm: str, smtp_server, address: str, name: str) -> None:
    """Opens the link mailed to `address`, ticks consent, types the name and signs."""
    async def mailed():
        mails = smtp_server.mailbox.to(address)
        return mails or None

    mail = (await eventually(mailed, timeout=60))[-1]
    link = LINK.search(mail.get_content()).group(1)
    page = await http.get(f"{clm}/sign/{link}")
    assert page.status_code == 200, page.text
    assert REWORDED[:40] in page.text  # the version to sign is the one shown
    form_key = FORM_KEY.search(page.text).group(1)
    signed = await http.post(f"{clm}/sign/{link}", data={"form_key": form_key, "action": "sign", "consent": "yes",
                                                         "typed_name": name})
    assert signed.status_code == 200, signed.text
