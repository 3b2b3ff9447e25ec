"""Internal approvals on real PostgreSQL and Kafka, over HTTP: a large deal routed through legal
and finance in parallel by the standard matrix; refusals (a sales user, the requester, a user who
is not an approver, a closed step, a rejection without comment, a bad matrix) with their error
bodies; the scheduler's deadline events, published as it would and redelivered, recorded as
ApprovalAtRisk and ApprovalEscalated once each; a new version invalidating the approvals."""

import datetime as dt
import uuid

import pytest
import pytest_asyncio

from shared.events import topics
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached
from shared.events.envelope import Envelope
from services.clm.application.library_starter import template_id
from services.clm.domain.approval_matrix import STANDARD_MATRIX_ID
from tests.conftest import bearer, eventually, on_kafka, token
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

CM = bearer("contract_manager")


def as_(role: str, subject: str) -> dict:
    return {"Authorization": f"Bearer {token(role, subject=subject)}"}


ANN, LENA, FRED = as_("sales", "sales-ann"), as_("legal_counsel", "counsel-lena"), as_("finance", "fin-fred")
VERA, OLGA = as_("sales_leadership", "vp-vera"), as_("sales_ops", "ops-olga")
VARIABLES = {"liability_cap": "EUR 1,000,000", "governing_law": "Germany", "payment_days": 30}


@pytest_asyncio.fixture(scope="module")
async def clm(service_env):
    from tests.conftest import running_service

    async with running_service("clm", service_env("clm")) as client:
        installed = await client.post("/api/v1/library/starter", headers=CM)
        assert installed.status_code == 200, installed.text
        yield client


async def drafted(clm, unit_price: str = "300000") -> str:
    """A self-service request by sales-ann, drafted from the starter MSA (work in progress)."""
    contract_id = str(uuid.uuid4())
    body = {"contract_id": contract_id, "title": "Robot fleet service", "account": {"name": "ACME Robotics"},
            "currency": "EUR", "term_months": 24, "desired_start_date": "2027-01-01", "time_zone": "Europe/Berlin",
            "lines": [{"sku": "SUP", "product": "Support", "quantity": "1", "unit_price": unit_price}],
            "deal": {"region": "EU", "industry": "manufacturing", "risk_tier": "medium", "data_residency": "EU"}}
    assert (await clm.post("/api/v1/contract-requests", json=body, headers=ANN)).status_code == 201
    assert (await clm.post(f"/api/v1/contract-requests/{contract_id}/submission", headers=ANN)).status_code == 200
    drafted = await clm.post(f"/api/v1/contracts/{contract_id}/draft", headers=LENA,
                             json={"template_id": str(template_id("msa")), "variables": VARIABLES})
    assert drafted.status_code == 201, drafted.text
    return contract_id


async def submitted(clm, contract_id: str) -> dict:
    answer = await clm.post(f"/api/v1/contracts/{contract_id}/approval/submit", headers=CM)
    assert answer.status_code == 200, answer.text
    return answer.json()


def step(approvals: dict, name: str) -> dict:
    return next(s for s in approvals["steps"] if s["name"] == name)


async def decide(clm, contract_id: str, step_id: str, headers: dict, verb: str = "approve", **body):
    return await clm.post(f"/api/v1/contracts/{contract_id}/approvals/{step_id}/{verb}", headers=headers, json=body)


async def test_a_large_deal_goes_through_legal_and_finance_and_awaits_signature(clm, stack):
    contract_id = await drafted(clm)
    for headers in (FRED, OLGA):  # phase 4: sales responsible, legal accountable, the contract manager runs it
        refused = await clm.post(f"/api/v1/contracts/{contract_id}/approval/submit", headers=headers)
        assert (refused.status_code, refused.json()["rule"]) == (403, "auth.role_required")
    approvals = await submitted(clm, contract_id)
    assert approvals["request_state"] == "awaiting_approval"
    assert step(approvals, "Legal review")["informed_roles"] == ["sales", "contract_manager"]
    unknown = await decide(clm, contract_id, str(uuid.uuid4()), LENA)
    assert (unknown.status_code, unknown.json()["rule"]) == (404, "approval_step.not_found")
    assert [(s["name"], s["state"]) for s in approvals["steps"]] == [("Legal review", "open"), ("Finance review", "open")]
    legal, finance = step(approvals, "Legal review")["step_id"], step(approvals, "Finance review")["step_id"]
    queue = await clm.get("/api/v1/approvals", headers=FRED)
    assert finance in [s["step_id"] for s in queue.json()["items"]] and legal not in [s["step_id"] for s in queue.json()["items"]]

    for headers, rule in [(ANN, "approval.role_not_allowed"), (OLGA, "approval.role_not_allowed"),
                          (FRED, "approval.not_an_approver"),
                          (as_("legal_counsel", "sales-ann"), "approval.own_request")]:
        refused = await decide(clm, contract_id, legal, headers)
        assert (refused.status_code, refused.json()["rule"]) == (403, rule), refused.text
    no_reason = await decide(clm, contract_id, legal, LENA, "reject", comment="  ")
    assert (no_reason.status_code, no_reason.json()["rule"]) == (422, "approval.reject_comment_required")

    granted = await decide(clm, contract_id, legal, LENA, comment="fine")
    assert granted.status_code == 200 and step(granted.json(), "Legal review")["decided_by"] == "counsel-lena"
    closed = await decide(clm, contract_id, legal, LENA)
    assert (closed.status_code, closed.json()["rule"]) == (409, "approval.step_closed")
    done = await decide(clm, contract_id, finance, FRED)
    assert (done.json()["request_state"], done.json()["approved_version"]) == ("awaiting_signature", 1)
    completed = await on_kafka(stack, topics.CLM_CONTRACTS, contract_id, "ApprovalCompleted")
    assert completed.event.version_number == 1


async def test_a_rejection_returns_the_request_to_work(clm):
    contract_id = await drafted(clm, unit_price="1000")
    legal = step(await submitted(clm, contract_id), "Legal review")["step_id"]
    rejected = await decide(clm, contract_id, legal, LENA, "reject", comment="liability cap too high")
    assert rejected.status_code == 200
    assert (rejected.json()["request_state"], step(rejected.json(), "Legal review")["state"]) == (
        "work_in_progress", "rejected")
    again = await submitted(clm, contract_id)
    assert (again["round"], step(again, "Legal review")["state"]) == (2, "open")


async def test_deadline_events_warn_and_escalate_once_even_redelivered(clm, stack):
    contract_id = await drafted(clm, unit_price="1000")
    legal = step(await submitted(clm, contract_id), "Legal review")
    due = dt.datetime.fromisoformat(legal["due_at"])
    at_risk = ApprovalStepAtRiskReached(step_id=legal["step_id"], contract_id=contract_id, level=0, due_at=due,
                                        reached_at=dt.datetime.fromisoformat(legal["at_risk_at"]))
    deadline = ApprovalStepDeadlineReached(step_id=legal["step_id"], contract_id=contract_id, level=0, due_at=due,
                                           reached_at=due)
    first_risk, first_deadline = Envelope(at_risk, 1), Envelope(deadline, 2)
    # Redelivered (the same message) and sent again (another message of the same announcement).
    await publish(stack.kafka_admin, [first_risk, first_risk, Envelope(at_risk, 1), first_deadline, first_deadline,
                                      Envelope(deadline, 2)])

    async def escalated():
        approvals = (await clm.get(f"/api/v1/contracts/{contract_id}/approvals", headers=CM)).json()
        s = step(approvals, "Legal review")
        return s if s["level"] == 1 else None

    s = await eventually(escalated)
    assert [a["value"] for a in s["approvers"]] == ["sales_leadership"] and len(s["escalations"]) == 1
    assert dt.datetime.fromisoformat(s["due_at"]) == due + dt.timedelta(days=2)
    history = await events_of(clm, contract_id)
    assert history.count("ApprovalAtRisk") == 1 and history.count("ApprovalEscalated") == 1
    assert history.count("ApprovalStepOpened") == 2
    refused = await decide(clm, contract_id, legal["step_id"], LENA)
    assert refused.json()["rule"] == "approval.not_an_approver"
    assert (await decide(clm, contract_id, legal["step_id"], VERA)).json()["request_state"] == "awaiting_signature"


async def events_of(clm, contract_id: str) -> list[str]:
    import sqlalchemy as sa

    from shared.backbone.tables import events as event_table

    async with clm.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.select(event_table.c.event_type).where(event_table.c.stream_id == contract_id)
                                  .order_by(event_table.c.version))
        return [r[0] for r in rows]


async def test_a_new_version_after_a_grant_invalidates_the_approvals(clm):
    contract_id = await drafted(clm)
    approvals = await submitted(clm, contract_id)
    assert (await decide(clm, contract_id, step(approvals, "Legal review")["step_id"], LENA)).status_code == 200
    document = await clm.get(f"/api/v1/contracts/{contract_id}/versions/1/document", headers=LENA)
    assert document.status_code == 200, document.text
    uploaded = await clm.post(f"/api/v1/contracts/{contract_id}/versions", headers=ANN,
                              files={"file": ("theirs.docx", document.content,
                                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")},
                              data={"origin": "counterparty_upload"})
    assert uploaded.status_code == 201, uploaded.text
    after = (await clm.get(f"/api/v1/contracts/{contract_id}/approvals", headers=CM)).json()
    assert after["request_state"] == "work_in_progress" and not after["round_open"]
    assert [(i["version_number"], i["by"]) for i in after["invalidations"]] == [(2, "sales-ann")]
    assert step(after, "Finance review")["state"] == "closed"
    queue = (await clm.get("/api/v1/approvals", headers=FRED)).json()["items"]
    assert contract_id not in [s["contract_id"] for s in queue]


async def test_the_matrix_api_versions_and_refuses_bad_rules(clm):
    # Other tests (the API fuzzing among them) may publish matrices of any name: the standard one is its id.
    standard = await clm.get("/api/v1/approval-matrices", params={"limit": 500}, headers=CM)
    assert str(STANDARD_MATRIX_ID) in [r["matrix_id"] for r in standard.json()["items"]]
    matrix = (await clm.get(f"/api/v1/approval-matrices/{STANDARD_MATRIX_ID}", headers=ANN)).json()
    assert matrix["standard"] and matrix["rules"][0]["rule_id"] == "legal"
    rules = matrix["rules"]
    bad = [{**rules[0], "condition": "budget > 10.0"}]
    refused = await clm.post("/api/v1/approval-matrices", headers=CM, json={"name": "Bad", "rules": bad})
    assert (refused.status_code, refused.json()["rule"]) == (422, "approval.condition_invalid")
    assert refused.json()["errors"][0]["field"] == "rules[0].condition" and "budget" in refused.json()["detail"]
    assert (await clm.post("/api/v1/approval-matrices", headers=ANN, json={"name": "M", "rules": rules})).status_code == 403
    matrix_id = str(uuid.uuid4())
    created = await clm.post("/api/v1/approval-matrices", headers=CM, json={"matrix_id": matrix_id, "name": "M", "rules": rules})
    again = await clm.post("/api/v1/approval-matrices", headers=CM, json={"matrix_id": matrix_id, "name": "M", "rules": rules})
    assert (created.status_code, again.status_code) == (201, 200)
    v2 = await clm.post(f"/api/v1/approval-matrices/{matrix_id}/versions", headers={**CM, "If-Match": "1"},
                        json={"name": "M2", "rules": rules[:1]})
    assert (v2.status_code, v2.json()["version"]) == (200, 2)
    stale = await clm.post(f"/api/v1/approval-matrices/{matrix_id}/versions", headers={**CM, "If-Match": "1"},
                           json={"name": "M3", "rules": rules})
    assert stale.status_code == 409
    v1 = await clm.get(f"/api/v1/approval-matrices/{matrix_id}/versions/1", headers=CM)
    assert (v1.json()["name"], v1.json()["latest_version"]) == ("M", 2)
    contract_id = await drafted(clm)
    routed = await clm.post(f"/api/v1/contracts/{contract_id}/approval/submit", headers=ANN,
                            json={"matrix_id": matrix_id})
    assert [s["name"] for s in routed.json()["steps"]] == ["Legal review"] and routed.json()["matrix_version"] == 2
