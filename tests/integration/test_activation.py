"""Activation and order sync (phase 6) on real PostgreSQL and Kafka: the scheduler's
ContractStartReached for an executed contract -> ContractActivated v1 then v2 on clm.contracts.v1
(or ActivationBlocked listing a SKU the catalogue copy lacks, until order sync publishes it);
order sync consuming v2 -> an order, the service contract drafted with matching lines and
entitlements, fallout visible and retried; each redelivery taking effect once."""

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from shared.backbone.tables import events as event_table
from shared.events import topics
from shared.events.contract_starts import ContractStartReached
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope, from_kafka
from services.clm.domain.contract.readiness import CatalogueCopy
from services.order_sync.domain.order import order_id_of
from tests.activation_story import AT, GOLD, ONSITE, executed_contract, published, quote_with_skus
from tests.conftest import bearer, eventually, running_service
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

READER, OPS = bearer("finance"), bearer("sales_ops")


async def on_topic(stack, topic: str, key: str, until, timeout: float = 60) -> list[Envelope]:
    """Every event under `key` on `topic` from the beginning, once `until(found)` holds."""
    found: list[Envelope] = []
    consumer = AIOKafkaConsumer(topic, **stack.kafka_admin.options(), group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            while not until(found):
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    found += [e for m in messages if (e := from_kafka(m.headers, m.key, m.value)).key == key]
    finally:
        await consumer.stop()
    return found


async def stream_types(client, stream_id: str) -> list[str]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.select(event_table.c.event_type).where(event_table.c.stream_id == stream_id)
                                  .order_by(event_table.c.version))
        return list(rows.scalars())


async def test_the_start_date_activates_an_executed_contract_once_its_skus_are_in_the_catalogue(service_env, stack):
    premium, onsite = f"SUP-PREM-{uuid.uuid4().hex[:6]}", f"ONSITE-{uuid.uuid4().hex[:6]}"
    contract = executed_contract(quote_with_skus(premium, onsite))
    cid = contract.contract_uuid
    async with running_service("clm", service_env("clm")) as clm:
        async with clm.app.state.context.uow() as uow:
            uow.add(contract)
            await uow.commit()

        async def readiness(missing: list[str]):
            r = await clm.get(f"/api/v1/contracts/{cid}/activation", headers=READER)
            return r.json() if r.status_code == 200 and [m["item"] for m in r.json()["missing"]] == missing else None

        assert await readiness([premium, onsite])  # before the start date: what would block it
        early = await clm.post(f"/api/v1/contracts/{cid}/activation", headers=bearer("contract_manager"))
        assert (early.status_code, early.json()["rule"]) == (409, "activation.before_start_date")  # starts 2027-01-01
        assert (await clm.post(f"/api/v1/contracts/{cid}/activation", headers=bearer("sales"))).status_code == 403
        await publish(stack.kafka_admin, [Envelope(published(premium), 1)])
        await eventually(lambda: readiness([onsite]), timeout=60)  # the copy followed the catalogue

        start = Envelope(ContractStartReached(contract_id=cid, start_date=contract.executed.start_date,
                                              time_zone="Europe/Berlin", reached_at=AT), 1)
        await publish(stack.kafka_admin, [start, start])  # and redelivered
        blocked = await eventually(lambda: _blocked(clm, cid), timeout=60)
        assert [(m["item"], m["rule"]) for m in blocked["missing"]] == [(onsite, "activation.sku_not_in_catalogue")]

        await publish(stack.kafka_admin, [Envelope(published(onsite, ONSITE), 1)])
        on_clm = await on_topic(stack, topics.CLM_CONTRACTS, str(cid),
                                until=lambda found: any(e.event.schema_version == 2 for e in found))
        types = [e.event.event_type for e in on_clm]
        on_clm = on_clm[types.index("ContractExecuted") + 1:]  # after the scene's events
        assert [(e.event.event_type, e.event.schema_version) for e in on_clm[:3]] == [
            ("ActivationBlocked", 1), ("ContractActivated", 1), ("ContractActivated", 2)]
        v1, v2 = on_clm[1].event, on_clm[2].event
        assert isinstance(v1, ContractActivated) and v1.model_dump() == contract.terms.model_dump()
        assert [(line.sku, line.quantity) for line in v2.lines] == [(line.sku, line.quantity) for line in contract.request_terms.lines]
        assert [e.name for e in v2.entitlements] == ["premium-support", "onsite-repair"]
        assert v2.signed_document_sha256 == contract.executed.signed_document.sha256

        shown = (await clm.get(f"/api/v1/contracts/{cid}/activation", headers=READER)).json()
        assert (shown["state"], shown["ready"], shown["blocked"], shown["activated_at"]) == ("active", True, None, "2026-12-20T09:00:00Z")
        request = (await clm.get(f"/api/v1/contract-requests/{cid}", headers=READER)).json()
        assert request["state"] == "closed_complete"
        types = await stream_types(clm, str(cid))
        assert types.count("ActivationBlocked") == 1 and types.count("ContractActivated") == 2  # v1 and v2, once


async def _blocked(clm, cid):
    r = await clm.get(f"/api/v1/contracts/{cid}/activation", headers=READER)
    return r.json()["blocked"] if r.status_code == 200 else None


async def test_order_sync_turns_v2_into_an_order_and_a_service_contract_with_fallout_retried(service_env, stack):
    premium_sku, onsite_sku = f"SUP-PREM-{uuid.uuid4().hex[:6]}", f"ONSITE-{uuid.uuid4().hex[:6]}"
    contract = executed_contract(quote_with_skus(premium_sku, onsite_sku))
    contract.start_reached({premium_sku: CatalogueCopy(premium_sku, 1, "Premium support", GOLD),
                            onsite_sku: CatalogueCopy(onsite_sku, 1, "Onsite service", ONSITE)}, at=AT, by="clm.activation")
    v1, v2 = contract.pending_events[-4:-2]  # then the request closed, the renewal terms derived
    cid, order_id = contract.contract_uuid, order_id_of(contract.contract_uuid)
    async with running_service("order_sync", service_env("order_sync")) as order_sync:
        put = await order_sync.put(f"/api/v1/catalogue/{premium_sku}", headers=OPS, json={
            "product": "Premium support", "entitlements": [t.model_dump() for t in GOLD]})
        assert put.status_code == 200, put.text
        refused = await order_sync.put(f"/api/v1/catalogue/{premium_sku}", headers=bearer("sales"), json={
            "product": "Premium support", "entitlements": [t.model_dump() for t in GOLD]})
        assert refused.status_code == 403

        await publish(stack.kafka_admin, [Envelope(v1, 9), Envelope(v2, 10), Envelope(v2, 10)])  # v2 redelivered

        async def order():
            r = await order_sync.get(f"/api/v1/orders/{order_id}", headers=READER)
            return r.json() if r.status_code == 200 else None

        shown = await eventually(order, timeout=60)
        premium, onsite = shown["lines"]
        assert (shown["state"], shown["account"], premium["state"]) == ("fallout", "ACC-77", "fulfilled")
        # ONSITE is not in order sync's catalogue, and 1.5 units are no service contract line: the first cause shows
        assert (onsite["state"], onsite["fallout"]["rule"], onsite["fallout"]["attempt"]) == (
            "fallout", "order.sku_not_in_catalogue", 1)
        listed = (await order_sync.get("/api/v1/orders?fallout=true&limit=500", headers=READER)).json()
        assert str(order_id) in [o["order_id"] for o in listed["items"]]

        service = (await order_sync.get(f"/api/v1/service-contracts/{cid}", headers=READER)).json()
        [line] = service["lines"]
        assert (line["line_id"], line["product"], line["quantity"], line["unit_price"]) == (
            str(v2.lines[0].line_id), "Premium support", 2, "1200.00")
        assert (line["start_date"], line["end_date"]) == ("2027-01-01", "2029-12-31")
        [ent] = service["entitlements"]
        assert (ent["line_id"], ent["support_level"], ent["sla"], ent["features"], ent["usage_limit"]) == (
            line["line_id"], "gold", "4h response", ["hotline", "remote-diagnosis"], 20)

        await order_sync.put(f"/api/v1/catalogue/{onsite_sku}", headers=OPS, json={
            "product": "Onsite service", "entitlements": [t.model_dump() for t in ONSITE]})

        async def retried_by_the_catalogue():  # its SKU published: the line is tried again, and falls out on 1.5 units
            shown = await order()
            return shown["lines"][1]["fallout"] if shown["lines"][1]["fallout"]["attempt"] == 2 else None

        assert (await eventually(retried_by_the_catalogue, timeout=60))["rule"] == "order.quantity_not_whole"
        retried = await order_sync.post(f"/api/v1/orders/{order_id}/lines/{onsite['order_line_id']}/retry", headers=OPS)
        assert retried.status_code == 200, retried.text
        assert retried.json()["lines"][1]["fallout"]["rule"] == "order.quantity_not_whole"
        assert retried.json()["lines"][1]["fallout"]["attempt"] == 3
        by_sales = await order_sync.post(f"/api/v1/orders/{order_id}/lines/{onsite['order_line_id']}/retry",
                                         headers=bearer("sales"))
        assert by_sales.status_code == 403

        on_orders = await on_topic(stack, topics.ORDER_SYNC_ORDERS, str(order_id), until=lambda found: len(found) >= 5)
        assert [e.event.event_type for e in on_orders] == ["OrderCreated", "OrderLineFulfilled", "OrderLineFallout",
                                                          "OrderLineFallout", "OrderLineFallout"]
        assert (await stream_types(order_sync, str(order_id))).count("OrderCreated") == 1
        assert (await stream_types(order_sync, str(cid)))[:1] == ["ServiceContractDrafted"]
