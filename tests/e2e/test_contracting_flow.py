"""The contracting flow end to end, every service its own process, driven over HTTP only.

The starter library installed -> Sales creates a quote (EU, high risk) in order sync and records
the customer's approval -> QuoteApproved opens the contract request in clm, prefilled with the
quote's commercial fields -> legal counsel drafts it from the starter MSA (the EU data protection
and the high-risk liability clauses selected; the .docx downloads with the version's SHA-256) ->
the counterparty's edit of that .docx (one clause reworded, the liability cap lowered) uploaded as
version 2 -> the comparison shows exactly those two changes, the deviations both -> the shared
read model (projection) shows the request's state, the template, version 2, the negotiated cap,
the deviations and the comment thread legal counsel opened on the reworded clause.
"""

import datetime as dt
import hashlib
import io
import re
import uuid
from decimal import Decimal

import docx
import httpx
import pytest

from services.clm.domain.contract.intake import QUOTE_NAMESPACE
from tests.conftest import eventually, token
from tests.platform import running_platform

pytestmark = pytest.mark.e2e

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SALES = {"Authorization": f"Bearer {token('sales', subject='sales-maria')}"}
MANAGER = {"Authorization": f"Bearer {token('contract_manager', subject='cm-jonas')}"}
COUNSEL = {"Authorization": f"Bearer {token('legal_counsel', subject='counsel-lena')}"}
READER = {"Authorization": f"Bearer {token('finance', subject='analyst-omar')}"}
CAP, LOWER_CAP = "EUR 1,000,000", "EUR 250,000"
VARIABLES = {"liability_cap": CAP, "governing_law": "Germany", "payment_days": 30}
REWORDED = ("Each party may disclose information it receives under this agreement to its affiliates, advisers and "
            "subcontractors whenever it considers that useful, and no duty of secrecy survives the end of the agreement.")
COMMERCIAL = ("account", "opportunity_id", "currency", "term_months", "billing_frequency", "time_zone")


@pytest.fixture(scope="module")
def platform(service_env, tmp_path_factory):
    with running_platform(service_env, tmp_path_factory.mktemp("contracting-logs")) as running:
        yield running.urls


def quote_body(quote_id: str) -> dict:
    valid_until = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    return {
        "quote_id": quote_id,
        "account": {"account_id": f"ACC-{quote_id[:6]}", "name": "ACME Robotics"},
        "opportunity_id": f"OPP-{quote_id[:6]}",
        "currency": "EUR", "term_months": 24, "billing_frequency": "annual",
        "valid_until": valid_until, "time_zone": "Europe/Berlin",
        "region": "EU", "industry": "manufacturing", "risk_tier": "high", "data_residency": "EU",
        "lines": [
            {"sku": "SUP-PREM", "product": "Premium support", "quantity": "2", "unit_price": "1200.00",
             "discount_percent": "10", "start_date": "2027-01-01", "end_date": "2028-12-31"},
            {"sku": "ONB", "product": "Onboarding", "quantity": 1, "unit_price": "999.99"},
        ],
    }


def counterparty_edit(original: bytes, reword: str, cap_paragraph: str) -> bytes:
    """The counterparty's edit of our .docx: the paragraph starting `reword` rewritten, and the cap in
    the paragraph starting `cap_paragraph` lowered. Everything else as we sent it."""
    document = docx.Document(io.BytesIO(original))
    reworded = lowered = 0
    for paragraph in document.paragraphs:
        if paragraph.text and paragraph.text == reword:
            paragraph.text = REWORDED
            reworded += 1
        elif paragraph.text and paragraph.text == cap_paragraph:
            assert CAP in paragraph.text
            paragraph.text = paragraph.text.replace(CAP, LOWER_CAP)
            lowered += 1
    assert (reworded, lowered) == (1, 1), "the paragraphs to edit were not found in the document"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def amount(text: str) -> Decimal:
    """`EUR 250,000` -> 250000."""
    return Decimal(re.sub(r"[^\d.]", "", text))


async def test_an_approved_quote_becomes_a_drafted_contract_negotiated_in_a_counterparty_upload(platform):
    clm, order_sync, projection = platform["clm"], platform["order_sync"], platform["projection"]
    async with httpx.AsyncClient(timeout=30) as http:
        # The starter library (again: changes nothing, same ids).
        installed = await http.post(f"{clm}/api/v1/library/starter", headers=MANAGER)
        assert installed.status_code == 200, installed.text
        library = installed.json()
        assert (await http.post(f"{clm}/api/v1/library/starter", headers=MANAGER)).json() == {**library, "created": 0}
        msa_id = library["templates"]["msa"]
        clause_ids = library["clauses"]
        template = (await http.get(f"{clm}/api/v1/templates/{msa_id}", headers=READER))
        assert template.status_code == 200, template.text

        # Sales creates the quote and records the customer's approval.
        quote_id = str(uuid.uuid4())
        created = await http.post(f"{order_sync}/api/v1/quotes", json=quote_body(quote_id), headers=SALES)
        assert created.status_code == 201, created.text
        approved = await http.post(f"{order_sync}/api/v1/quotes/{quote_id}/approval", headers={
            **SALES, "If-Match": f'"{created.json()["version"]}"'})
        assert approved.status_code == 200, approved.text
        quote = approved.json()
        assert quote["state"] == "customer_approved"

        # The request appears in clm, prefilled from the quote.
        contract_id = str(uuid.uuid5(QUOTE_NAMESPACE, quote_id))

        async def listed():
            r = await http.get(f"{clm}/api/v1/contract-requests", params={"origin": "quote", "state": "new", "limit": 500},
                               headers=READER)
            assert r.status_code == 200, r.text
            return next((item for item in r.json()["items"] if item["contract_id"] == contract_id), None)

        summary = await eventually(listed, timeout=90)
        assert summary["quote_id"] == quote_id and summary["account_name"] == quote["account"]["name"]
        request = (await http.get(f"{clm}/api/v1/contract-requests/{contract_id}", headers=READER)).json()
        for field in COMMERCIAL:
            assert request[field] == quote[field], field
        assert (request["quote_id"], request["quote_number"]) == (quote_id, quote["number"])
        assert [_line(line) for line in request["lines"]] == [_line(line) for line in quote["lines"]]
        assert _deal(request["deal"]) == _deal(quote["deal"])
        assert (request["origin"], request["state"], request["requested_by"]) == ("quote", "new", "sales-maria")
        assert request["classification"] == "high_risk"  # risk tier high

        # Legal counsel drafts it from the starter MSA.
        start = "2027-01-01"
        drafted = await http.post(f"{clm}/api/v1/contracts/{contract_id}/draft", headers=COUNSEL,
                                  json={"template_id": msa_id, "start_date": start, "variables": VARIABLES})
        assert drafted.status_code == 201, drafted.text
        contract = drafted.json()
        begins = dt.date.fromisoformat(start)
        years, month = divmod(begins.month - 1 + quote["term_months"], 12)  # the end: start + term - 1 day
        end = begins.replace(year=begins.year + years, month=month + 1) - dt.timedelta(days=1)
        assert (contract["start_date"], contract["end_date"]) == (start, end.isoformat())
        assert contract["current_version"]["number"] == 1

        first = (await http.get(f"{clm}/api/v1/contracts/{contract_id}/versions/1", headers=READER)).json()
        assert (first["origin"], first["author"]) == ("generated", "counsel-lena")
        by_clause = {c["clause_id"]: c for c in first["clauses"]}
        for key in ("eu_data_protection", "high_risk_liability", "limitation_of_liability", "confidentiality"):
            assert clause_ids[key] in by_clause, key
        for key in ("eu_data_protection", "high_risk_liability"):  # their text: the library's, variables filled in
            latest = (await http.get(f"{clm}/api/v1/clauses/{clause_ids[key]}", headers=READER)).json()["latest"]
            filled = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(first["variables"][m.group(1)]), latest["text"])
            assert (by_clause[clause_ids[key]]["heading"], by_clause[clause_ids[key]]["text"]) == (latest["title"], filled)
        assert "Regulation (EU) 2016/679" in by_clause[clause_ids["eu_data_protection"]]["text"]
        assert CAP in by_clause[clause_ids["high_risk_liability"]]["text"]
        assert amount(first["terms"]["liability_cap"]) == amount(CAP)

        # The .docx: its SHA-256 is the version's, python-docx reads the clauses back.
        download = await http.get(f"{clm}/api/v1/contracts/{contract_id}/versions/1/document", headers=READER)
        assert download.status_code == 200 and download.headers["content-type"] == DOCX
        sha = hashlib.sha256(download.content).hexdigest()
        assert sha == first["document"]["sha256"] == contract["current_version"]["sha256"]
        paragraphs = [p.text for p in docx.Document(io.BytesIO(download.content)).paragraphs]
        for key in ("eu_data_protection", "high_risk_liability"):
            for line in by_clause[clause_ids[key]]["text"].split("\n"):
                assert line in paragraphs, (key, line)

        # The counterparty rewords confidentiality and lowers the cap in the limitation of liability.
        confidentiality = by_clause[clause_ids["confidentiality"]]
        limitation = by_clause[clause_ids["limitation_of_liability"]]
        theirs = counterparty_edit(download.content, confidentiality["text"].split("\n")[0], limitation["text"])
        uploaded = await http.post(f"{clm}/api/v1/contracts/{contract_id}/versions", headers=SALES,
                                   files={"file": ("acme-redlines.docx", theirs, DOCX)},
                                   data={"origin": "counterparty_upload"})
        assert uploaded.status_code == 201, uploaded.text
        second = uploaded.json()
        assert (second["version_number"], second["origin"], second["author"]) == (2, "counterparty_upload", "sales-maria")
        assert second["document"]["sha256"] == hashlib.sha256(theirs).hexdigest()
        assert amount(second["terms"]["liability_cap"]) == amount(LOWER_CAP)
        matched = {c["heading"]: c for c in second["clauses"]}
        assert matched[confidentiality["heading"]]["match"] == "non_standard"
        assert {c["match"] for h, c in matched.items() if h != confidentiality["heading"]} == {"standard"}

        # The comparison: exactly those two clauses changed, nothing else.
        compared = await http.get(f"{clm}/api/v1/contracts/{contract_id}/comparison", params={"from": 1, "to": 2},
                                  headers=READER)
        assert compared.status_code == 200, compared.text
        compared = compared.json()
        assert (compared["added"], compared["removed"], compared["changed"]) == (0, 0, 2)
        changed = {c["new"]["heading"]: c for c in compared["changes"] if c["kind"] == "changed"}
        assert set(changed) == {confidentiality["heading"], limitation["heading"]}
        assert {c["kind"] for c in compared["changes"]} == {"changed", "unchanged"}
        assert len(compared["changes"]) == len(first["clauses"])
        reworded = _words(changed[confidentiality["heading"]]["text_diff"])
        old_text, new_text = confidentiality["text"], REWORDED + "\n" + confidentiality["text"].split("\n", 1)[1]
        assert _side(changed[confidentiality["heading"]]["text_diff"], "delete") == old_text.split()
        assert _side(changed[confidentiality["heading"]]["text_diff"], "insert") == new_text.split()
        assert len(reworded["insert"]) > 10 and len(reworded["delete"]) > 5  # substantially reworded
        cap = _words(changed[limitation["heading"]]["text_diff"])
        assert any("1,000,000" in w for w in cap["delete"]) and any("250,000" in w for w in cap["insert"])
        assert not [w for w in cap["insert"] + cap["delete"] if not re.search(r"\d", w)]  # only the amount

        # The deviations: the non-standard clause and the lowered cap.
        deviations = (await http.get(f"{clm}/api/v1/contracts/{contract_id}/deviations", headers=READER)).json()
        assert {(d["kind"], d["heading"] or d["term"]) for d in deviations["open"]} == {
            ("non_standard_clause", confidentiality["heading"]), ("term_changed", "liability_cap")}
        lowered = next(d for d in deviations["open"] if d["kind"] == "term_changed")
        assert (amount(lowered["before"]), amount(lowered["after"])) == (amount(CAP), amount(LOWER_CAP))
        clause_deviation = next(d for d in deviations["open"] if d["kind"] == "non_standard_clause")
        assert clause_deviation["closest_clause_id"] == clause_ids["confidentiality"]
        assert deviations["cleared"] == []

        # Legal counsel opens a comment thread on the reworded clause of version 2.
        clause_number = matched[confidentiality["heading"]]["number"]
        thread = await http.post(f"{clm}/api/v1/contracts/{contract_id}/comments", headers=COUNSEL, json={
            "version_number": 2, "clause_number": clause_number,
            "text": "We cannot accept disclosure to subcontractors without a duty of confidentiality."})
        assert thread.status_code == 201, thread.text
        assert (thread.json()["status"], thread.json()["clause_number"]) == ("open", clause_number)
        threads = (await http.get(f"{clm}/api/v1/contracts/{contract_id}/comments", params={"status": "open"},
                                  headers=READER)).json()
        assert [t["thread_id"] for t in threads["items"]] == [thread.json()["thread_id"]]

        # The shared read model.
        async def read_model():
            r = await http.get(f"{projection}/api/v1/contracts/{contract_id}", headers=READER)
            if r.status_code != 200:
                return None
            record = r.json()
            done = (record["request_state"], record["current_version_number"], record["open_deviations"],
                    record["open_comments"]) == ("work_in_progress", 2, len(deviations["open"]), 1)
            return record if done else None

        record = await eventually(read_model, timeout=60)
        assert (record["origin"], record["quote_id"], record["classification"]) == ("quote", quote_id, "high_risk")
        assert Decimal(record["deal_size"]) == Decimal(quote["deal"]["deal_size"])
        assert (record["template_id"], record["template_version"]) == (msa_id, first["template"]["template_version"])
        assert (record["current_version_sha256"], record["current_version_author"]) == (
            second["document"]["sha256"], "sales-maria")
        assert record["template_kind"] == first["template"]["kind"] == "msa"
        assert (record["current_version_origin"], record["current_version_number"]) == ("counterparty_upload", 2)
        assert Decimal(record["liability_cap"]) == amount(LOWER_CAP)  # the negotiated term as version 2 reads it
        assert record["governing_law"] == second["terms"]["governing_law"] == VARIABLES["governing_law"]
        assert (record["start_date"], record["end_date"]) == (contract["start_date"], contract["end_date"])
        listed_deviations = await http.get(f"{projection}/api/v1/contracts/{contract_id}/deviations",
                                           params={"status": "open"}, headers=READER)
        assert listed_deviations.status_code == 200, listed_deviations.text
        assert {d["deviation_id"] for d in listed_deviations.json()["items"]} == {
            d["deviation_id"] for d in deviations["open"]}


def _line(line: dict) -> tuple:
    return (line["line_id"], line["sku"], line["product"], Decimal(line["quantity"]), Decimal(line["unit_price"]),
            Decimal(line["discount_percent"]), line["start_date"], line["end_date"], Decimal(line["net_amount"]))


def _deal(deal: dict) -> tuple:
    return (deal["region"], deal["industry"], deal["risk_tier"], deal["data_residency"], Decimal(deal["deal_size"]),
            Decimal(deal["max_discount_percent"]))


def _side(diff: list[dict], kind: str) -> list[str]:
    """The words of one side of a word diff, in order: the old text ("delete") or the new ("insert")."""
    return " ".join(w for op in diff if op["op"] in ("equal", kind) for w in op["words"]).split()


def _words(diff: list[dict]) -> dict[str, list[str]]:
    out = {"equal": [], "insert": [], "delete": []}
    for op in diff:
        out[op["op"]] += op["words"]
    return out
