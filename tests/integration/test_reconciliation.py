"""Reconciliation on real PostgreSQL and Kafka: clm's ContractExecuted (pending: not active yet)
and ContractActivated v2 arrive on clm.contracts.v1, the matching service contract is drafted (as the activation part's fulfilment
does, with the legal contract's id), the contract shows reconciled; a quantity changed through MACD
is one ReconciliationMismatch however often it is checked (events and the periodic loop), and the
contract is reconciled again once fixed."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from shared.events.activation import ActivatedEntitlement, ActivatedLine, ContractActivatedV2
from shared.events.contracts import Party
from shared.events.documents import DocumentRef
from shared.events.envelope import Envelope
from shared.events import topics
from shared.events.signature import ContractExecuted
from tests.conftest import bearer, eventually, on_kafka, running_service
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

START, END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
OPS, FINANCE = bearer("sales_ops"), bearer("finance")


def activated(contract_id: uuid.UUID, line_id: uuid.UUID) -> ContractActivatedV2:
    return ContractActivatedV2(
        contract_id=contract_id, number="CNT-REC-1", title="Gold support", contract_model="service_contract",
        parties=[Party(role="customer", name="ACME Robotics")], start_date=START, end_date=END, time_zone="UTC",
        account_id="ACC-1", currency="EUR", executed_version=2, signed_document_sha256="a" * 64,
        lines=[ActivatedLine(line_id=line_id, sku="SUP-GOLD", product="Gold support", quantity=Decimal(10),
                             unit_price=Decimal("120.00"), discount_percent=Decimal(5), net_amount=Decimal("1140.00"),
                             start_date=START, end_date=END)],
        entitlements=[ActivatedEntitlement(line_id=line_id, sku="SUP-GOLD", name="onsite-repair", support_level="gold",
                                           sla="4h response", features=["remote-diagnostics"], usage_limit=10,
                                           usage_unit="incidents", start_date=START, end_date=END)],
        activated_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )


async def reconciliation_events(client, contract_id) -> list[str]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type FROM events WHERE stream_id = :s ORDER BY version"),
                                  {"s": f"reconciliation-{contract_id}"})
        return list(rows.scalars())


async def test_signed_terms_reconcile_then_a_changed_quantity_mismatches_once_until_fixed(service_env, stack):
    env = service_env("order_sync", RECONCILIATION_INTERVAL_SECONDS="0.5")
    async with running_service("order_sync", env) as order_sync:
        contract_id, line_id = uuid.uuid4(), uuid.uuid4()
        url = f"/api/v1/reconciliation/{contract_id}"
        assert (await order_sync.get(url, headers=bearer("sales"))).status_code == 404
        await publish(stack.kafka_admin, [Envelope(executed(contract_id), stream_version=8)])

        async def state(expected: str, differences: int = 0):
            body = (await order_sync.get(url, headers=bearer("sales"))).json()
            return body if body.get("state") == expected and len(body["differences"]) == differences else None

        waiting = await eventually(lambda: state("pending"), timeout=60)  # executed, not active yet
        assert waiting["number"] is None and waiting["executed_at"]
        listed = (await order_sync.get("/api/v1/reconciliation?state=pending&limit=500", headers=bearer("sales"))).json()
        assert str(contract_id) in [item["contract_id"] for item in listed["items"]]

        await publish(stack.kafka_admin, [Envelope(activated(contract_id, line_id), stream_version=9)])
        await eventually(lambda: _number(order_sync, url), timeout=60)
        assert await state("pending")  # no service contract yet

        draft = {"contract_id": str(contract_id), "number": "CNT-REC-1", "account": "ACME Robotics",
                 "start_date": str(START), "end_date": str(END), "time_zone": "UTC",
                 "lines": [{"line_id": str(line_id), "product": "Gold support", "quantity": 10, "unit_price": "114.00",
                            "start_date": str(START), "end_date": str(END)}],
                 "entitlements": [{"name": "onsite-repair", "line_id": str(line_id), "support_level": "gold",
                                   "sla": "4h response", "features": ["remote-diagnostics"], "usage_limit": 10,
                                   "usage_unit": "incidents", "start_date": str(START), "end_date": str(END)}]}
        response = await order_sync.post("/api/v1/service-contracts", json=draft, headers=OPS)
        assert response.status_code == 201, response.text
        reconciled = await eventually(lambda: state("reconciled"), timeout=60)
        assert reconciled["reconciled_at"] and reconciled["account"] == "ACME Robotics"
        await on_kafka(stack, topics.ORDER_SYNC_RECONCILIATION, str(contract_id), "ContractReconciled")

        changed = await order_sync.put(f"/api/v1/service-contracts/{contract_id}/lines/{line_id}/quantity",
                                       json={"quantity": 12}, headers=OPS)
        assert changed.status_code == 200, changed.text
        # Checks at once (requests racing the consumer and the loop) find the new difference once.
        checks = await asyncio.gather(*(order_sync.post(f"{url}/check", headers=OPS) for _ in range(5)))
        assert [r.status_code for r in checks] == [200] * 5
        mismatched = await eventually(lambda: state("mismatched", 1), timeout=60)
        assert mismatched["differences"] == [{"kind": "line", "item": str(line_id), "field": "quantity",
                                              "signed": "10", "active": "12"}]
        mismatch = await on_kafka(stack, topics.ORDER_SYNC_RECONCILIATION, str(contract_id), "ReconciliationMismatch")
        assert mismatch.event.difference.field == "quantity"

        # The periodic loop checks it again (and again): the difference persists, it is not announced again.
        first = mismatched["checked_at"]
        await eventually(lambda: _checked_after(order_sync, url, first), timeout=30)
        assert (await order_sync.post(f"{url}/check", headers=FINANCE)).json()["state"] == "mismatched"
        assert await reconciliation_events(order_sync, contract_id) == ["ContractReconciled", "ReconciliationMismatch"]

        listed = (await order_sync.get("/api/v1/reconciliation?state=mismatched&limit=500", headers=bearer("sales"))).json()
        assert str(contract_id) in [item["contract_id"] for item in listed["items"]]
        assert (await order_sync.post(f"{url}/check", headers=bearer("sales"))).status_code == 403
        assert (await order_sync.post(f"/api/v1/reconciliation/{uuid.uuid4()}/check", headers=OPS)).status_code == 404

        fixed = await order_sync.put(f"/api/v1/service-contracts/{contract_id}/lines/{line_id}/quantity",
                                     json={"quantity": 10}, headers=OPS)
        assert fixed.status_code == 200, fixed.text
        await eventually(lambda: state("reconciled"), timeout=60)
        assert await reconciliation_events(order_sync, contract_id) == [
            "ContractReconciled", "ReconciliationMismatch", "ContractReconciled"]


def executed(contract_id: uuid.UUID) -> ContractExecuted:
    def doc(name: str, byte: str) -> DocumentRef:
        return DocumentRef(document_id=uuid.uuid4(), sha256=byte * 64, size=10, media_type="application/pdf", filename=name)

    return ContractExecuted(contract_id=contract_id, envelope_id=uuid.uuid4(), version_number=2,
                            signed_document=doc("signed.pdf", "a"), audit_certificate=doc("audit.pdf", "b"),
                            start_date=START, end_date=END, time_zone="UTC",
                            executed_at=dt.datetime(2026, 12, 20, tzinfo=dt.UTC))


async def _number(client, url: str) -> bool:
    return (await client.get(url, headers=bearer("sales"))).json()["number"] == "CNT-REC-1"


async def _checked_after(client, url: str, instant: str) -> bool:
    body = (await client.get(url, headers=bearer("sales"))).json()
    return dt.datetime.fromisoformat(body["checked_at"]) > dt.datetime.fromisoformat(instant)


async def test_lines_are_matched_through_the_orders_fulfilment_and_pending_until_it_ends(service_env, stack):
    """As the activation part fulfils: OrderCreated (order line -> contract line), a service
    contract whose lines have ids of their own, OrderLineFulfilled (order line -> service line)."""
    from shared.events.sales_orders import OrderCreated, OrderFulfilled, OrderLine, OrderLineFulfilled

    async with running_service("order_sync", service_env("order_sync")) as order_sync:
        contract_id, line_id, order_line, service_line = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        order_id, url = uuid.uuid4(), f"/api/v1/reconciliation/{contract_id}"
        signed = activated(contract_id, line_id)
        signed_line = signed.lines[0]
        at = dt.datetime(2027, 1, 1, 6, tzinfo=dt.UTC)
        created = OrderCreated(order_id=order_id, contract_id=contract_id, account="ACME Robotics", currency="EUR", at=at,
                               lines=[OrderLine(order_line_id=order_line, contract_line_id=line_id,
                                                **signed_line.model_dump(exclude={"line_id"}))])
        await publish(stack.kafka_admin, [Envelope(signed, stream_version=9), Envelope(created, stream_version=1)])

        async def state(expected: str):
            body = (await order_sync.get(url, headers=bearer("finance"))).json()
            return body if body.get("state") == expected else None

        await eventually(lambda: _order_state(order_sync, url, "created"), timeout=60)
        draft = {"contract_id": str(contract_id), "number": "CNT-REC-2", "account": "ACME Robotics",
                 "start_date": str(START), "end_date": str(END),
                 "lines": [{"line_id": str(service_line), "product": "Gold support (renamed)", "quantity": 10,
                            "unit_price": "120.00", "start_date": str(START), "end_date": str(END)}],
                 "entitlements": [{"name": "onsite-repair", "line_id": str(service_line), "support_level": "gold",
                                   "sla": "4h response", "features": ["remote-diagnostics"], "usage_limit": 10,
                                   "usage_unit": "incidents", "start_date": str(START), "end_date": str(END)}]}
        assert (await order_sync.post("/api/v1/service-contracts", json=draft, headers=OPS)).status_code == 201
        assert (await order_sync.post(f"{url}/check", headers=OPS)).json()["state"] == "pending"  # order not fulfilled

        fulfilled = OrderLineFulfilled(order_id=order_id, contract_id=contract_id, order_line_id=order_line,
                                       service_contract_id=contract_id, service_line_id=service_line, at=at)
        done = OrderFulfilled(order_id=order_id, contract_id=contract_id, service_contract_id=contract_id, at=at)
        await publish(stack.kafka_admin, [Envelope(fulfilled, stream_version=2), Envelope(done, stream_version=3)])
        # Matched by the fulfilment although the product's name differs: that name is the one difference.
        mismatched = await eventually(lambda: state("mismatched"), timeout=60)
        assert mismatched["differences"] == [{"kind": "line", "item": str(line_id), "field": "product",
                                              "signed": "Gold support", "active": "Gold support (renamed)"}]
        assert mismatched["order_state"] == "fulfilled"


async def _order_state(client, url: str, expected: str) -> bool:
    response = await client.get(url, headers=bearer("finance"))
    return response.status_code == 200 and response.json()["order_state"] == expected
