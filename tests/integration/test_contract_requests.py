"""Contract requests on real PostgreSQL and Kafka: an approved quote published by order sync opens a
prefilled request in clm and in the shared contract record, once however often it arrives; a
self-service request goes through enrichment, submission, classification, assignment and work,
each step an event with who and when; the read model's row is the same in any order of arrival."""

import datetime as dt
import random
import uuid
from decimal import Decimal

import pytest
import pytest_asyncio
import sqlalchemy as sa

from shared.backbone.tables import events as event_table
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import RequestedAccount, RequestTerms
from shared.events.envelope import Envelope
from shared.events.quotes import DealFields, QuoteLine
from services.clm.domain.contract import QUOTE_NAMESPACE, Contract
from services.projection.adapters.contract_records import contracts
from services.projection.application.projector import project
from tests.conftest import bearer, eventually, running_service, token
from tests.events_factory import approved_quote
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

READER = bearer("finance")


def as_user(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, subject=subject)}"}


ANN, MAX, LENA = as_user("sales-ann", "sales"), as_user("cm-max", "contract_manager"), as_user("counsel-lena", "legal_counsel")


@pytest_asyncio.fixture(scope="module")
async def services(service_env):
    async with running_service("clm", service_env("clm")) as clm:
        async with running_service("projection", service_env("projection")) as projection:
            yield clm, projection


async def _found(client, path: str) -> dict | None:
    response = await client.get(f"/api/v1{path}", headers=READER)
    return response.json() if response.status_code == 200 else None


async def _stream(clm, contract_id: uuid.UUID) -> list[tuple[str, str | None]]:
    async with clm.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.select(event_table.c.event_type, event_table.c.actor)
                                  .where(event_table.c.stream_id == str(contract_id)).order_by(event_table.c.version))
        return [tuple(r) for r in rows]


async def test_an_approved_quote_opens_one_prefilled_request_in_clm_and_in_the_read_model(services, stack):
    clm, projection = services
    quote = approved_quote(risk_tier="high")
    contract_id = uuid.uuid5(QUOTE_NAMESPACE, str(quote.quote_id))
    first, again = Envelope(quote, 1), Envelope(quote, 1)  # the same quote again, as another message
    await publish(stack.kafka_admin, [first, again, first])  # and the first redelivered

    # A first consumer group on a fresh broker waits for its coordinator: allow for it.
    request = await eventually(lambda: _found(clm, f"/contract-requests/{contract_id}"), timeout=60)
    for name in ("currency", "term_months", "billing_frequency", "time_zone", "opportunity_id"):
        assert request[name] == getattr(quote, name), name
    assert (request["quote_id"], request["quote_number"]) == (str(quote.quote_id), quote.number)
    assert request["account"] == quote.account.model_dump()
    assert [QuoteLine(**line) for line in request["lines"]] == quote.lines
    assert DealFields(**request["deal"]) == quote.deal
    assert (request["origin"], request["state"], request["requested_by"]) == ("quote", "new", "sales-ann")
    assert (request["classification"], request["queue"], request["assignee"]) == ("high_risk", "legal-review", None)
    assert [r["rule"] for r in request["classification_reasons"]] == ["classification.risk_tier_high"]
    assert request["history"] == [{"from_state": None, "to_state": "new", "by": "sales-ann",
                                   "at": "2026-12-01T09:30:00Z", "reason": ""}]

    record = await eventually(lambda: _found(projection, f"/contracts/{contract_id}"), timeout=60)
    assert {k: record[k] for k in ("number", "title", "request_state", "request_state_since", "origin", "quote_id",
                                    "opportunity_id", "classification", "queue", "currency", "state")} == {
        "number": request["number"], "title": request["title"], "request_state": "new",
        "request_state_since": "2026-12-01T09:30:00Z", "origin": "quote", "quote_id": str(quote.quote_id),
        "opportunity_id": "OPP-4411", "classification": "high_risk", "queue": "legal-review", "currency": "EUR",
        "state": None,
    }
    assert Decimal(record["deal_size"]) == Decimal("3360.00")
    assert record["parties"] == [{"role": "customer", "name": "ACME Robotics"}]

    async def both_consumed():
        async with clm.app.state.context.engine.connect() as conn:
            seen = await conn.scalar(sa.text("SELECT count(*) FROM inbox WHERE consumer = 'clm' AND event_id IN (:a, :b)"),
                                     {"a": first.event_id, "b": again.event_id})
            return seen == 2

    await eventually(both_consumed)
    assert await _stream(clm, contract_id) == [
        ("ContractRequested", "consumer:clm"), ("ContractClassified", "consumer:clm"), ("ContractAssigned", "consumer:clm")]
    listed = (await clm.get("/api/v1/contract-requests?origin=quote&classification=high_risk&limit=500", headers=READER)).json()
    assert [r["contract_id"] for r in listed["items"]].count(str(contract_id)) == 1


async def test_a_self_service_request_from_post_to_work_each_step_an_event_with_who_and_when(services):
    clm, projection = services
    contract_id = uuid.uuid4()
    base = f"/api/v1/contract-requests/{contract_id}"
    body = {"contract_id": str(contract_id), "title": "Robot fleet service", "account": {"name": "Globex"}}
    created = await clm.post("/api/v1/contract-requests", json=body, headers=ANN)
    assert created.status_code == 201, created.text
    assert (created.json()["state"], created.json()["classification"], created.json()["queue"]) == (
        "draft", "non_standard", "legal-review")
    replay = await clm.post("/api/v1/contract-requests", json=body, headers=ANN)
    assert (replay.status_code, replay.headers["Location"]) == (200, base)

    incomplete = await clm.post(f"{base}/submission", headers=ANN)
    assert (incomplete.status_code, incomplete.json()["rule"], incomplete.json()["missing"]) == (
        422, "request.submission_incomplete", ["currency"])

    stale = await clm.patch(base, json={"currency": "EUR"}, headers={**ANN, "If-Match": '"1"'})
    assert (stale.status_code, stale.json()["rule"]) == (409, "stream.version_conflict")
    enriched = await clm.patch(base, headers={**ANN, "If-Match": created.headers["ETag"]}, json={
        "currency": "EUR", "term_months": 12, "account": {"account_id": "ACC-9", "name": "Globex"},
        "deal": {"region": "EU", "industry": "retail", "risk_tier": "low", "data_residency": "EU"},
        "lines": [{"sku": "ARM", "product": "Robot arm care", "quantity": "4", "unit_price": "250.00", "discount_percent": "5"}],
    })
    assert enriched.status_code == 200, enriched.text
    e = enriched.json()
    assert (e["deal"]["deal_size"], e["lines"][0]["net_amount"], e["classification"], e["queue"]) == (
        "950.00", "950.00", "standard", "contracts-standard")

    assert (await clm.post(f"{base}/submission", headers=ANN)).status_code == 200

    forbidden = await clm.post(f"{base}/classification", json={"classification": "high_risk"}, headers=ANN)
    assert forbidden.status_code == 403
    assert (forbidden.json()["rule"], forbidden.json()["required_roles"]) == (
        "auth.role_required", ["contract_manager", "legal_counsel"])
    raised = await clm.post(f"{base}/classification", json={"classification": "high_risk", "reason": "new market"},
                            headers=MAX)
    assert (raised.json()["classification"], raised.json()["queue"]) == ("high_risk", "legal-review")
    lower = await clm.post(f"{base}/classification", json={"classification": "standard"}, headers=MAX)
    assert lower.status_code == 200  # back to what the rules give: allowed
    refused = await clm.patch(base, json={"deal": {"data_residency": "US"}}, headers=ANN)
    assert refused.json()["classification"] == "non_standard"
    below = await clm.post(f"{base}/classification", json={"classification": "standard"}, headers=LENA)
    assert (below.status_code, below.json()["rule"]) == (409, "classification.data_residency_outside_allowed")

    assigned = await clm.post(f"{base}/assignment", json={"assignee": "counsel-lena", "assignee_role": "legal_counsel"},
                              headers=MAX)
    assert (assigned.json()["assignee"], assigned.json()["queue"]) == ("counsel-lena", None)
    not_hers = await clm.post(f"{base}/work", headers=as_user("counsel-otto", "legal_counsel"))
    assert (not_hers.status_code, not_hers.json()["rule"]) == (409, "request.work_by_assignee_or_contract_manager")
    working = await clm.post(f"{base}/work", headers=LENA)
    assert working.json()["state"] == "work_in_progress"
    review = await clm.post(f"{base}/review", headers=LENA)
    assert review.json()["state"] == "awaiting_review"
    late = await clm.patch(base, json={"title": "Too late"}, headers=ANN)
    assert (late.status_code, late.json()["rule"]) == (409, "request.enrich_only_before_review")
    no_reason = await clm.post(f"{base}/cancellation", json={}, headers=MAX)
    assert (no_reason.status_code, no_reason.json()["rule"]) == (422, "request.cancel_reason_required")

    got = (await clm.get(base, headers=READER)).json()
    assert [(h["from_state"], h["to_state"], h["by"]) for h in got["history"]] == [
        (None, "draft", "sales-ann"), ("draft", "new", "sales-ann"), ("new", "work_in_progress", "counsel-lena"),
        ("work_in_progress", "awaiting_review", "counsel-lena")]
    assert all(h["at"] for h in got["history"])
    assert await _stream(clm, contract_id) == [
        ("ContractRequested", "sales-ann"), ("ContractClassified", "sales-ann"), ("ContractAssigned", "sales-ann"),
        ("ContractRequestEnriched", "sales-ann"), ("ContractClassified", "sales-ann"), ("ContractAssigned", "sales-ann"),
        ("ContractRequestStateChanged", "sales-ann"),
        ("ContractClassified", "cm-max"), ("ContractAssigned", "cm-max"),
        ("ContractClassified", "cm-max"), ("ContractAssigned", "cm-max"),
        ("ContractRequestEnriched", "sales-ann"), ("ContractClassified", "sales-ann"), ("ContractAssigned", "sales-ann"),
        ("ContractAssigned", "cm-max"),
        ("ContractRequestStateChanged", "counsel-lena"), ("ContractRequestStateChanged", "counsel-lena"),
    ]

    async def projected():
        record = await _found(projection, f"/contracts/{contract_id}")
        return record if record and record["request_state"] == "awaiting_review" else None

    record = await eventually(projected, timeout=60)
    assert {k: record[k] for k in ("origin", "classification", "assignee", "assignee_role", "queue", "currency", "title")} == {
        "origin": "self_service", "classification": "non_standard", "assignee": "counsel-lena",
        "assignee_role": "legal_counsel", "queue": None, "currency": "EUR", "title": "Robot fleet service"}
    assert record["request_state_since"] == got["history"][-1]["at"].replace("+00:00", "Z")
    page = (await projection.get("/api/v1/contracts?request_state=awaiting_review&classification=non_standard&limit=500",
                                 headers=READER)).json()
    assert str(contract_id) in [r["contract_id"] for r in page["items"]]
    queue = (await clm.get("/api/v1/contract-requests?assignee=counsel-lena&state=awaiting_review&limit=500",
                           headers=READER)).json()
    assert str(contract_id) in [r["contract_id"] for r in queue["items"]]


async def test_the_read_models_request_columns_are_the_same_in_any_order_of_arrival(services):
    """Through the projector as the consumer calls it (without the inbox): in order, reversed,
    shuffled and each twice, the row comes out the same."""
    _, projection = services
    engine = projection.app.state.context.engine
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    contract = Contract.request(uuid.uuid4(), RequestTerms(title="Any order", account=RequestedAccount(name="Initech")),
                                by="sales-ann", at=at)
    contract.enrich(by="sales-ann", at=at + dt.timedelta(minutes=1), currency="EUR", title="Any order 2027")
    contract.submit(by="sales-ann", at=at + dt.timedelta(minutes=2))
    contract.classify_as("high_risk", reason="", by="cm-max", at=at + dt.timedelta(minutes=3))
    contract.assign(by="cm-max", at=at + dt.timedelta(minutes=4), assignee="counsel-lena", assignee_role="legal_counsel")
    contract.enrich(by="sales-ann", at=at + dt.timedelta(minutes=5), currency="USD")
    contract.start_work(by="counsel-lena", roles=frozenset({"legal_counsel"}), at=at + dt.timedelta(minutes=6))
    envelopes = [Envelope(e, i, time=at + dt.timedelta(minutes=i)) for i, e in enumerate(contract.pending_events, 1)]

    async def row_after(order: list[Envelope]) -> tuple:
        async with UnitOfWork(engine) as uow:
            await uow.conn.execute(sa.delete(contracts).where(contracts.c.contract_id == contract.contract_uuid))
            for envelope in order:
                await project(uow, envelope)
            await uow.commit()
        async with engine.connect() as conn:
            return tuple((await conn.execute(sa.select(contracts).where(contracts.c.contract_id == contract.contract_uuid))).one())

    in_order = await row_after(envelopes)
    shuffled = envelopes[:]
    random.Random(7).shuffle(shuffled)
    for order in (envelopes[::-1], shuffled, [e for e in envelopes for _ in range(2)], envelopes + envelopes[:3]):
        assert await row_after(order) == in_order
    record = await _found(projection, f"/contracts/{contract.contract_uuid}")
    assert {k: record[k] for k in ("title", "currency", "request_state", "classification", "assignee", "queue")} == {
        "title": "Any order 2027", "currency": "USD", "request_state": "work_in_progress", "classification": "high_risk",
        "assignee": "counsel-lena", "queue": None}
