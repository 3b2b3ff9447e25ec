"""Reconciliation on real PostgreSQL and Kafka: clm's ContractExecuted (pending: not active yet)
and ContractActivated v2 arrive on clm.contracts.v1, order sync's order drafts the service contract
from its catalogue (with the legal contract's id), the contract shows reconciled; a quantity changed through MACD
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


def activated(contract_id: uuid.UUID, line_id: uuid.UUID, sku: str = "SUP-GOLD") -> ContractActivatedV2:
    return ContractActivatedV2(
        contract_id=contract_id, number="CNT-REC-1", title="Gold support", contract_model="service_contract",
        parties=[Party(role="customer", name="ACME Robotics")], start_date=START, end_date=END, time_zone="UTC",
        account_id="ACC-1", currency="EUR", executed_version=2, signed_document_sha256="a" * 64,
        lines=[ActivatedLine(line_id=line_id, sku=sku, product="Gold support", quantity=Decimal(10),
                             unit_price=Decimal("120.00"), discount_percent=Decimal(5), net_amount=Decimal("1140.00"),
                             start_date=START, end_date=END)],
        entitlements=[ActivatedEntitlement(line_id=line_id, sku=sku, name="onsite-repair", support_level="gold",
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

        # Order sync's catalogue maps the SKU (a usage limit per unit: 1 x 10 units), then v2 arrives:
        # its order drafts the service contract, and the reconciliation follows.
        sku = f"SUP-GOLD-{uuid.uuid4().hex[:8]}"
        mapped = await order_sync.put(f"/api/v1/catalogue/{sku}", headers=OPS, json={
            "product": "Gold support", "entitlements": [{"name": "onsite-repair", "support_level": "gold",
                                                         "sla": "4h response", "features": ["remote-diagnostics"],
                                                         "usage_limit": 1, "usage_unit": "incidents"}]})
        assert mapped.status_code in (200, 201), mapped.text
        await publish(stack.kafka_admin, [Envelope(activated(contract_id, line_id, sku), stream_version=9)])
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


async def test_a_line_in_fallout_is_a_mismatch_until_the_retry_fulfils_it(service_env, stack):
    """The SKU is not in order sync's catalogue: the order's line falls out, and what was signed is
    missing from what is active (the line and its entitlement, each one difference); publishing the
    SKU retries the line, the order is fulfilled and the contract reconciled."""
    async with running_service("order_sync", service_env("order_sync")) as order_sync:
        contract_id, line_id = uuid.uuid4(), uuid.uuid4()
        url, sku = f"/api/v1/reconciliation/{contract_id}", f"SUP-LATE-{uuid.uuid4().hex[:8]}"
        await publish(stack.kafka_admin, [Envelope(executed(contract_id), stream_version=8),
                                          Envelope(activated(contract_id, line_id, sku), stream_version=9)])

        async def state(expected: str):
            body = (await order_sync.get(url, headers=bearer("finance"))).json()
            return body if body.get("state") == expected and body.get("order_state") else None

        missing = await eventually(lambda: state("mismatched"), timeout=60)
        assert missing["order_state"] == "fallout"
        assert [(d["kind"], d["field"], d["active"]) for d in missing["differences"]] == [
            ("line", "presence", None), ("entitlement", "presence", None)]
        assert (await order_sync.post(f"{url}/check", headers=OPS)).json()["state"] == "mismatched"

        mapped = await order_sync.put(f"/api/v1/catalogue/{sku}", headers=OPS, json={
            "product": "Gold support", "entitlements": [{"name": "onsite-repair", "support_level": "gold",
                                                         "sla": "4h response", "features": ["remote-diagnostics"],
                                                         "usage_limit": 1, "usage_unit": "incidents"}]})
        assert mapped.status_code in (200, 201), mapped.text
        reconciled = await eventually(lambda: state("reconciled"), timeout=60)
        assert reconciled["order_state"] == "fulfilled" and reconciled["differences"] == []


async def _order_state(client, url: str, expected: str) -> bool:
    response = await client.get(url, headers=bearer("finance"))
    return response.status_code == 200 and response.json()["order_state"] == expected
