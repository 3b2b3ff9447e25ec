"""Order sync's service contract API on real PostgreSQL and Kafka: the life-cycle rules as callers
meet them (status, rule and field in the problem body), time arriving as the scheduler's
`ServiceContractDateReached` events, suspension flowing from sold products to lines and
entitlements, MACD, and the entitlement check."""

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from shared.backbone.errors import ConcurrencyConflict
from shared.events.lifecycle import DueTransition, ServiceContractDateReached
from shared.events.envelope import Envelope, to_kafka
from services.order_sync.domain.install_base import SoldProduct
from services.order_sync.domain.service_contract import ContractLine, ServiceContract
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration

OPS = bearer("sales_ops")
START, END = "2027-01-01", "2027-12-31"


@pytest.fixture
async def order_sync(service_env):
    async with running_service("order_sync", service_env("order_sync", ALLOW_CLOCK_CONTROL="true")) as client:
        client.app.state.context.clock.set(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC))
        yield client


def set_today(client, day: str) -> None:
    client.app.state.context.clock.set(dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC))


async def reach(stack, client, contract_id: str, day: str) -> None:
    """Plays the scheduler: the date `day` began for the contract. Waits until order sync applied it."""
    event = ServiceContractDateReached(
        contract_id=uuid.UUID(contract_id), date=dt.date.fromisoformat(day), time_zone="UTC",
        reached_at=dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC),
        due=[DueTransition(item_kind="contract", item_id=uuid.UUID(contract_id), transition="activation",
                           due_at=dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC))],
    )
    await publish(stack, Envelope(event, stream_version=1))
    await eventually(lambda: _inbox_has(client, "order_sync-time"), timeout=60)


async def publish(stack, envelope: Envelope) -> None:
    topic, headers, value, key = to_kafka(envelope)
    producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    _published.add(envelope.event_id)


_published: set = set()


async def _inbox_has(client, consumer: str) -> bool:
    async with client.app.state.context.engine.connect() as conn:
        seen = set((await conn.execute(sa.text("SELECT event_id FROM inbox WHERE consumer = :c"), {"c": consumer})).scalars())
    return _published <= seen


async def event_types(client, contract_id: str) -> list[str]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type FROM events WHERE stream_id = :s ORDER BY version"), {"s": contract_id})
        return list(rows.scalars())


async def draft(client, **overrides) -> dict:
    body = {"account": "ACME Robotics", "start_date": START, "end_date": END, "time_zone": "UTC", **overrides}
    response = await client.post("/api/v1/service-contracts", json=body, headers=OPS)
    assert response.status_code == 201, response.text
    return response.json()


def line(**overrides) -> dict:
    return {"product": "Premium support", "quantity": 2, "unit_price": "1200.00", "start_date": START, "end_date": END, **overrides}


def refused(response, status: int, rule: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule, body
    if field:
        assert body["errors"][0]["field"] == field and body["errors"][0]["rule"] == rule, body
    return body


async def test_drafted_with_lines_and_entitlements_idempotently(order_sync):
    contract_id, line_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"contract_id": contract_id, "account": "ACME", "start_date": START, "end_date": END,
            "lines": [line(line_id=line_id)], "entitlements": [{"name": "onsite-repair", "line_id": line_id,
                                                                "start_date": START, "end_date": END}]}
    first = await order_sync.post("/api/v1/service-contracts", json=body, headers=OPS)
    assert first.status_code == 201, first.text
    c = first.json()
    assert c["state"] == "draft" and [l["state"] for l in c["lines"]] == ["draft"] and c["entitlements"][0]["line_id"] == line_id
    again = await order_sync.post("/api/v1/service-contracts", json=body, headers=OPS)
    assert again.status_code == 200 and again.json()["version"] == c["version"] == 1
    refused(await order_sync.post("/api/v1/service-contracts", json={**body, "end_date": "2027-06-30"}, headers=OPS),
            409, "service_contract.already_exists")
    got = await order_sync.get(f"/api/v1/service-contracts/{contract_id}", headers=bearer("finance"))
    assert got.status_code == 200 and got.headers["etag"] == '"1"' and got.json() == c


async def test_only_sales_ops_and_contract_managers_change_service_contracts(order_sync):
    body = {"account": "ACME", "start_date": START, "end_date": END}
    assert (await order_sync.post("/api/v1/service-contracts", json=body)).status_code == 401
    refused(await order_sync.post("/api/v1/service-contracts", json=body, headers=bearer("sales")), 403, "auth.role_required")
    assert (await order_sync.post("/api/v1/service-contracts", json=body, headers=bearer("contract_manager"))).status_code == 201
    assert (await order_sync.get(f"/api/v1/service-contracts/{uuid.uuid4()}", headers=OPS)).status_code == 404


async def test_violations_are_refused_naming_the_rule_and_field(order_sync):
    outside = {"account": "ACME", "start_date": START, "end_date": END, "lines": [line(end_date="2028-01-31")]}
    refused(await order_sync.post("/api/v1/service-contracts", json=outside, headers=OPS), 422, "dates.child_within_parent", "lines[0]")
    backwards = {"account": "ACME", "start_date": END, "end_date": START}
    refused(await order_sync.post("/api/v1/service-contracts", json=backwards, headers=OPS), 422, "dates.end_before_start", "end_date")
    unknown_zone = {"account": "ACME", "start_date": START, "end_date": END, "time_zone": "Mars/Olympus"}
    refused(await order_sync.post("/api/v1/service-contracts", json=unknown_zone, headers=OPS), 422, "contract.time_zone_unknown", "time_zone")
    bad_quantity = {"account": "ACME", "start_date": START, "end_date": END, "lines": [line(quantity=0)]}
    invalid = refused(await order_sync.post("/api/v1/service-contracts", json=bad_quantity, headers=OPS), 422, "request.invalid")
    assert invalid["errors"][0]["field"] == "lines.0.quantity" and invalid["errors"][0]["rule"] == "greater_than"

    c = await draft(order_sync, lines=[line(end_date="2027-09-30")])
    cid = c["contract_id"]
    refused(await order_sync.put(f"/api/v1/service-contracts/{cid}/dates", json={"start_date": START, "end_date": "2027-06-30"},
                                 headers=OPS), 422, "dates.child_within_parent", f"lines.{c['lines'][0]['line_id']}")
    stale = await order_sync.put(f"/api/v1/service-contracts/{cid}/dates", json={"start_date": START, "end_date": "2027-11-30"},
                                 headers={**OPS, "If-Match": '"0"'})
    assert refused(stale, 409, "stream.version_conflict")["actual_version"] == 1
    assert (await order_sync.delete(f"/api/v1/service-contracts/{cid}/lines/{uuid.uuid4()}", headers=OPS)).status_code == 404


async def test_time_activates_then_expires_with_the_cascade(order_sync, stack):
    c = await draft(order_sync, lines=[line()], entitlements=[{"name": "onsite-repair", "start_date": START, "end_date": END}])
    cid, url = c["contract_id"], f"/api/v1/service-contracts/{c['contract_id']}"

    set_today(order_sync, START)
    await reach(stack, order_sync, cid, START)
    now = (await order_sync.get(url, headers=OPS)).json()
    assert now["state"] == "active" and {i["state"] for i in now["lines"] + now["entitlements"]} == {"active"}

    refused(await order_sync.put(f"{url}/dates", json={"start_date": "2027-01-02", "end_date": END}, headers=OPS),
            409, "active.start_date_frozen", "start_date")
    refused(await order_sync.put(f"{url}/dates", json={"start_date": START, "end_date": "2027-12-30"}, headers=OPS),
            409, "active.end_date_extend_only", "end_date")
    extended = await order_sync.put(f"{url}/dates", json={"start_date": START, "end_date": "2028-03-31"}, headers=OPS)
    assert extended.status_code == 200 and extended.json()["end_date"] == "2028-03-31"

    await reach(stack, order_sync, cid, "2028-04-01")
    await reach(stack, order_sync, cid, "2028-04-01")  # a second delivery of the same date changes nothing
    done = (await order_sync.get(url, headers=OPS)).json()
    assert done["state"] == "expired" and {i["state"] for i in done["lines"] + done["entitlements"]} == {"expired"}
    assert (await event_types(order_sync, cid))[-3:] == ["ServiceContractExpired", "ContractLineExpired", "EntitlementExpired"]
    assert (await event_types(order_sync, cid)).count("ServiceContractExpired") == 1
    refused(await order_sync.post(f"{url}/lines", json=line(start_date="2028-01-01", end_date="2028-03-31"), headers=OPS),
            409, "state.terminal")


async def test_suspending_a_sold_product_suspends_what_covers_it_until_resumed(order_sync, stack):
    product = (await order_sync.post("/api/v1/sold-products", json={"account": "ACME", "product": "CNC mill"},
                                     headers=bearer("asset_manager"))).json()
    pid = product["sold_product_id"]
    line_id = str(uuid.uuid4())
    c = await draft(order_sync, account="ACME", lines=[line(line_id=line_id, sold_product_id=pid)],
                    entitlements=[{"name": "onsite-repair", "line_id": line_id, "start_date": START, "end_date": END}])
    cid, url = c["contract_id"], f"/api/v1/service-contracts/{c['contract_id']}"
    set_today(order_sync, "2027-03-01")
    await reach(stack, order_sync, cid, "2027-03-01")

    suspended = await order_sync.post(f"/api/v1/sold-products/{pid}/suspension", json={"reason": "unpaid"}, headers=OPS)
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    now = (await order_sync.get(url, headers=OPS)).json()
    assert now["state"] == "active"  # the parent never follows a child
    assert {i["state"] for i in now["lines"] + now["entitlements"]} == {"suspended"}

    assert (await order_sync.put(f"{url}/lines/{line_id}/quantity", json={"quantity": 5}, headers=OPS)).status_code == 200
    refused(await order_sync.put(f"{url}/lines/{line_id}/dates", json={"start_date": START, "end_date": "2028-01-31"}, headers=OPS),
            409, "suspended.only_field_edits", "state")
    added = await order_sync.post(f"{url}/entitlements", json={"name": "spare-parts", "line_id": line_id,
                                                               "start_date": START, "end_date": END}, headers=OPS)
    assert added.status_code == 201 and added.json()["entitlements"][-1]["state"] == "suspended"
    refused(await order_sync.post(f"/api/v1/sold-products/{pid}/suspension", headers=OPS), 409, "product.already_suspended")

    resumed = await order_sync.post(f"/api/v1/sold-products/{pid}/resumption", headers=OPS)
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    now = (await order_sync.get(url, headers=OPS)).json()
    assert {i["state"] for i in now["lines"] + now["entitlements"]} == {"active"}
    types = await event_types(order_sync, cid)
    assert types.count("ContractLineSuspended") == 1 and types.count("ContractLineResumed") == 1
    assert types.count("EntitlementSuspended") == 1 and types.count("EntitlementResumed") == 2


async def test_suspended_lines_and_entitlements_refuse_cancellation_but_the_contract_may_be_canceled(order_sync, stack):
    """A cancellation is a state change: refused while Suspended. The contract is never Suspended;
    its cancellation cancels its Suspended children with it."""
    product = (await order_sync.post("/api/v1/sold-products", json={"account": "ACME", "product": "Lathe"}, headers=OPS)).json()
    pid, line_id, ent_id = product["sold_product_id"], str(uuid.uuid4()), str(uuid.uuid4())
    c = await draft(order_sync, account="ACME", lines=[line(line_id=line_id, sold_product_id=pid)],
                    entitlements=[{"entitlement_id": ent_id, "name": "onsite-repair", "line_id": line_id,
                                   "start_date": START, "end_date": END}])
    cid, url = c["contract_id"], f"/api/v1/service-contracts/{c['contract_id']}"
    set_today(order_sync, "2027-03-01")
    await reach(stack, order_sync, cid, "2027-03-01")
    assert (await order_sync.post(f"/api/v1/sold-products/{pid}/suspension", json={"reason": "unpaid"}, headers=OPS)).status_code == 200
    version = (await order_sync.get(url, headers=OPS)).headers["etag"]

    refused(await order_sync.post(f"{url}/lines/{line_id}/cancellation", headers=OPS), 409, "suspended.only_field_edits", "state")
    refused(await order_sync.post(f"{url}/entitlements/{ent_id}/cancellation", headers=OPS), 409, "suspended.only_field_edits", "state")
    now = await order_sync.get(url, headers=OPS)
    assert now.headers["etag"] == version  # nothing was recorded
    assert {i["state"] for i in now.json()["lines"] + now.json()["entitlements"]} == {"suspended"}

    canceled = await order_sync.post(f"{url}/cancellation", json={"reason": "customer left"}, headers=OPS)
    assert canceled.status_code == 200, canceled.text
    body = canceled.json()
    assert body["state"] == "canceled" and {i["state"] for i in body["lines"] + body["entitlements"]} == {"canceled"}
    assert (await event_types(order_sync, cid))[-3:] == ["ServiceContractCanceled", "ContractLineCanceled", "EntitlementCanceled"]


async def test_lines_cover_only_what_the_account_owns(order_sync):
    other = (await order_sync.post("/api/v1/sold-products", json={"account": "Globex", "product": "Lathe"}, headers=OPS)).json()
    body = {"account": "ACME", "start_date": START, "end_date": END, "lines": [line(sold_product_id=other["sold_product_id"])]}
    refused(await order_sync.post("/api/v1/service-contracts", json=body, headers=OPS), 422, "coverage.account_mismatch", "sold_product_id")
    body["lines"] = [line(sold_product_id=str(uuid.uuid4()))]
    refused(await order_sync.post("/api/v1/service-contracts", json=body, headers=OPS), 422, "sold_product.not_found", "sold_product_id")


async def test_macd_on_an_active_contract(order_sync, stack):
    item = (await order_sync.post("/api/v1/install-base-items", json={"account": "ACME", "name": "Mill #1", "site": "Plant 4"},
                                  headers=bearer("asset_manager"))).json()
    c = await draft(order_sync, account="ACME")
    cid, url = c["contract_id"], f"/api/v1/service-contracts/{c['contract_id']}"
    set_today(order_sync, "2027-02-01")
    await reach(stack, order_sync, cid, "2027-02-01")

    added = await order_sync.post(f"{url}/lines", json=line(start_date="2027-02-01", install_base_item_id=item["install_base_item_id"]), headers=OPS)
    assert added.status_code == 201 and added.json()["lines"][0]["state"] == "active"
    line_id = added.json()["lines"][0]["line_id"]
    changed = await order_sync.put(f"{url}/lines/{line_id}/quantity", json={"quantity": 4}, headers=OPS)
    assert changed.json()["lines"][0]["quantity"] == 4
    refused(await order_sync.post(f"{url}/lines/{line_id}/disconnection", json={"end_date": "2027-01-31"}, headers=OPS),
            422, "macd.disconnect_date", "end_date")
    disconnected = await order_sync.post(f"{url}/lines/{line_id}/disconnection", json={"end_date": "2027-06-30"}, headers=OPS)
    assert disconnected.json()["lines"][0]["end_date"] == "2027-06-30"
    moved = await order_sync.post(f"/api/v1/install-base-items/{item['install_base_item_id']}/move", json={"to_site": "Plant 7"}, headers=OPS)
    assert moved.status_code == 200 and moved.json()["site"] == "Plant 7"
    refused(await order_sync.delete(f"{url}/lines/{line_id}", headers=OPS), 409, "draft.remove_only_in_draft", "state")
    types = await event_types(order_sync, cid)
    assert ["ContractLineAdded", "ContractLineQuantityChanged", "ContractLineDisconnected"] == [
        t for t in types if t in ("ContractLineAdded", "ContractLineQuantityChanged", "ContractLineDisconnected")]


async def test_entitlement_check_names_the_contract_and_entitlement(order_sync, stack):
    item = (await order_sync.post("/api/v1/install-base-items", json={"account": "Initech", "name": "Robot arm", "site": "Line 2"},
                                  headers=OPS)).json()
    iid = item["install_base_item_id"]
    c = await draft(order_sync, account="Initech", number="SC-CHECK-1", lines=[line(install_base_item_id=iid, line_id=str(uuid.uuid4()))])
    line_id = c["lines"][0]["line_id"]
    with_ent = await order_sync.post(f"/api/v1/service-contracts/{c['contract_id']}/entitlements", headers=OPS, json={
        "name": "onsite-repair", "line_id": line_id, "sla": "4h response", "features": ["remote-diagnostics"],
        "start_date": START, "end_date": "2027-06-30"})
    ent_id = with_ent.json()["entitlements"][0]["entitlement_id"]
    set_today(order_sync, "2027-01-10")
    await reach(stack, order_sync, c["contract_id"], "2027-01-10")

    async def check(**params):
        r = await order_sync.get("/api/v1/entitlement-checks", params=params, headers=bearer("asset_manager"))
        assert r.status_code == 200, r.text
        return r.json()

    yes = await check(to="onsite-repair", on="2027-03-01", install_base_item_id=iid)
    assert yes["entitled"] and yes["granted_by"][0]["contract_number"] == "SC-CHECK-1"
    assert yes["granted_by"][0]["entitlement_id"] == ent_id and yes["granted_by"][0]["sla"] == "4h response"
    assert (await check(to="remote-diagnostics", on="2027-03-01", account="Initech"))["entitled"]
    assert not (await check(to="onsite-repair", on="2027-07-01", account="Initech"))["entitled"]
    assert not (await check(to="software-updates", on="2027-03-01", account="Initech"))["entitled"]
    assert not (await check(to="onsite-repair", on="2027-03-01", account="Initrode"))["entitled"]

    await order_sync.post(f"/api/v1/install-base-items/{iid}/suspension", headers=OPS)
    assert not (await check(to="onsite-repair", on="2027-03-01", install_base_item_id=iid))["entitled"]
    refused(await order_sync.get("/api/v1/entitlement-checks", params={"to": "x"}, headers=OPS), 422,
            "entitlement_check.subject_required", "account")


async def test_a_line_read_against_a_product_that_is_suspended_before_commit_is_refused(order_sync):
    """The product a line covers is guarded: a suspension committed in between makes the add fail
    with 409 rather than leave an Active line on a suspended product."""
    product = (await order_sync.post("/api/v1/sold-products", json={"account": "ACME", "product": "Press"}, headers=OPS)).json()
    c = await draft(order_sync, account="ACME")
    ctx = order_sync.app.state.context
    uow = ctx.uow()
    async with uow:
        contract = await uow.get(ServiceContract, c["contract_id"])
        sold = await uow.get(SoldProduct, product["sold_product_id"])
        uow.guard(sold)
        contract.add_line(ContractLine(uuid.uuid4(), "support", 1, 0, contract.start_date, contract.end_date,
                                       sold_product_id=sold.product_id), dt.date(2026, 12, 1))
        assert (await order_sync.post(f"/api/v1/sold-products/{sold.product_id}/suspension", headers=OPS)).status_code == 200
        with pytest.raises(ConcurrencyConflict):
            await uow.commit()
    now = (await order_sync.get(f"/api/v1/service-contracts/{c['contract_id']}", headers=OPS)).json()
    assert now["lines"] == []


async def test_an_id_of_the_wrong_kind_is_not_found_or_taken(order_sync):
    """A service contract's id where a sold product's or install base item's is expected (and the
    reverse) is that record not found, or an id taken for a create; never a 500."""
    c = await draft(order_sync, account="ACME")
    cid = c["contract_id"]
    product = (await order_sync.post("/api/v1/sold-products", json={"account": "ACME", "product": "Press"}, headers=OPS)).json()
    pid = product["sold_product_id"]
    item = (await order_sync.post("/api/v1/install-base-items", json={"account": "ACME", "name": "Press #1", "site": "Plant 4"},
                                  headers=OPS)).json()
    iid = item["install_base_item_id"]

    refused(await order_sync.get(f"/api/v1/sold-products/{cid}", headers=OPS), 404, "sold_product.not_found")
    refused(await order_sync.get(f"/api/v1/sold-products/{iid}", headers=OPS), 404, "sold_product.not_found")
    refused(await order_sync.get(f"/api/v1/install-base-items/{cid}", headers=OPS), 404, "install_base_item.not_found")
    refused(await order_sync.get(f"/api/v1/install-base-items/{pid}", headers=OPS), 404, "install_base_item.not_found")
    refused(await order_sync.get(f"/api/v1/service-contracts/{pid}", headers=OPS), 404, "service_contract.not_found")
    for resource, record in (("sold-products", "sold_product"), ("install-base-items", "install_base_item")):
        for change in ("suspension", "resumption"):
            refused(await order_sync.post(f"/api/v1/{resource}/{cid}/{change}", headers=OPS), 404, f"{record}.not_found")
    refused(await order_sync.post(f"/api/v1/install-base-items/{pid}/move", json={"to_site": "Plant 7"}, headers=OPS),
            404, "install_base_item.not_found")
    refused(await order_sync.post(f"/api/v1/service-contracts/{pid}/cancellation", headers=OPS), 404, "service_contract.not_found")

    refused(await order_sync.post("/api/v1/sold-products", json={"sold_product_id": cid, "account": "ACME", "product": "Press"},
                                  headers=OPS), 409, "sold_product.already_exists")
    refused(await order_sync.post("/api/v1/install-base-items", json={"install_base_item_id": pid, "account": "ACME",
                                                                      "name": "Press #2", "site": "Plant 4"}, headers=OPS),
            409, "install_base_item.already_exists")
    refused(await order_sync.post("/api/v1/service-contracts", json={"contract_id": iid, "account": "ACME", "start_date": START,
                                                                     "end_date": END}, headers=OPS),
            409, "service_contract.already_exists")

    refused(await order_sync.post(f"/api/v1/service-contracts/{cid}/lines", json=line(sold_product_id=cid), headers=OPS),
            422, "sold_product.not_found", "sold_product_id")
    refused(await order_sync.post(f"/api/v1/service-contracts/{cid}/lines", json=line(install_base_item_id=pid), headers=OPS),
            422, "install_base_item.not_found", "install_base_item_id")
    refused(await order_sync.post(f"/api/v1/service-contracts/{cid}/entitlements",
                                  json={"name": "onsite-repair", "start_date": START, "end_date": END, "sold_product_id": iid},
                                  headers=OPS), 422, "sold_product.not_found", "sold_product_id")
    with_line = await order_sync.post(f"/api/v1/service-contracts/{cid}/lines", json=line(), headers=OPS)
    line_id = with_line.json()["lines"][0]["line_id"]
    refused(await order_sync.put(f"/api/v1/service-contracts/{cid}/lines/{line_id}/coverage", json={"sold_product_id": cid},
                                 headers=OPS), 422, "sold_product.not_found", "sold_product_id")

    assert (await order_sync.get(f"/api/v1/sold-products/{pid}", headers=OPS)).json() == product
    assert (await order_sync.get(f"/api/v1/install-base-items/{iid}", headers=OPS)).json() == item
