"""The reconciliation rules: what was signed (ContractActivated v2) against the service contract
order sync drafted for it, and which differences are announced (each new one once)."""

import datetime as dt
import uuid
from decimal import Decimal

from shared.events.activation import ActivatedEntitlement, ActivatedLine, ContractActivatedV2
from shared.events.contracts import Party
from shared.events.reconciliation import ContractReconciled, Difference, ReconciliationMismatch
from services.order_sync.domain.reconciliation import MISMATCHED, RECONCILED, Reconciliation, compare
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

START, END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
AT = dt.datetime(2027, 1, 1, 8, tzinfo=dt.UTC)
CONTRACT_ID, LINE_ID, OTHER_LINE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def signed(**changes) -> ContractActivatedV2:
    line = ActivatedLine(line_id=LINE_ID, sku="SUP-GOLD", product="Gold support", quantity=Decimal(10),
                         unit_price=Decimal("120.00"), discount_percent=Decimal(5), net_amount=Decimal("1140.00"),
                         start_date=START, end_date=END)
    ent = ActivatedEntitlement(line_id=LINE_ID, sku="SUP-GOLD", name="onsite-repair", support_level="gold", sla="4h",
                               features=["remote", "parts"], usage_limit=10, usage_unit="incidents",
                               start_date=START, end_date=END)
    fields = dict(contract_id=CONTRACT_ID, number="CNT-1", title="Support", contract_model="service_contract",
                  parties=[Party(role="customer", name="ACME")], start_date=START, end_date=END, time_zone="UTC",
                  lines=[line], entitlements=[ent]) | changes
    return ContractActivatedV2(**fields)


def service(line_id=None, quantity=10, unit_price=Decimal("120.00"), features=("parts", "remote"), ents=True,
            end=END, extra_line=False) -> ServiceContract:
    line_id = line_id or LINE_ID
    lines = [ContractLine(line_id=line_id, product="Gold support", quantity=quantity, unit_price=unit_price,
                          start_date=START, end_date=end)]
    if extra_line:
        lines.append(ContractLine(line_id=OTHER_LINE, product="Extra", quantity=1, unit_price=Decimal(1),
                                  start_date=START, end_date=END))
    entitlements = [Entitlement(entitlement_id=uuid.uuid4(), line_id=line_id, name="onsite-repair", support_level="gold",
                                sla="4h", features=list(features), usage_limit=10, usage_unit="incidents",
                                start_date=START, end_date=end)] if ents else []
    return ServiceContract.draft(CONTRACT_ID, number="CNT-1", account="ACME", start_date=START, end_date=END,
                                 lines=lines, entitlements=entitlements)


def test_a_service_contract_drafted_from_the_signed_terms_has_no_difference():
    assert compare(signed(), service()) == []


def test_the_net_unit_price_agrees_as_well_as_the_list_price():
    assert compare(signed(), service(unit_price=Decimal("114.00"))) == []
    assert [(d.field, d.signed, d.active) for d in compare(signed(), service(unit_price=Decimal("100")))] == [
        ("unit_price", "120", "100")]


def test_a_changed_quantity_is_one_line_difference():
    assert compare(signed(), service(quantity=12)) == [
        Difference(kind="line", item=str(LINE_ID), field="quantity", signed="10", active="12")]


def test_lines_are_matched_by_the_orders_fulfilment_then_by_product_and_dates():
    other_id = uuid.uuid4()
    assert compare(signed(), service(line_id=other_id), {LINE_ID: other_id}) == []
    assert compare(signed(), service(line_id=other_id)) == []  # by product and dates


def test_entitlement_fields_dates_and_missing_or_extra_items_are_listed():
    found = compare(signed(), service(features=("remote",), end=dt.date(2027, 6, 30), ents=True, extra_line=True))
    assert {(d.kind, d.field, d.signed, d.active) for d in found} == {
        ("line", "end_date", "2027-12-31", "2027-06-30"),
        ("entitlement", "features", "parts,remote", "remote"),
        ("entitlement", "end_date", "2027-12-31", "2027-06-30"),
        ("line", "presence", None, "Extra"),
    }
    assert compare(signed(), service(ents=False)) == [
        Difference(kind="entitlement", item=f"{LINE_ID}/onsite-repair", field="presence", signed="onsite-repair", active=None)]


def test_a_signed_line_without_a_service_line_is_missing_with_its_entitlements():
    contract = ServiceContract.draft(CONTRACT_ID, number="CNT-1", account="ACME", start_date=START, end_date=END)
    assert [(d.kind, d.field, d.active) for d in compare(signed(), contract)] == [
        ("line", "presence", None), ("entitlement", "presence", None)]


def test_a_canceled_service_contract_is_one_difference():
    contract = service()
    contract.cancel(START)
    assert [(d.kind, d.field, d.active) for d in compare(signed(), contract)] == [("contract", "state", "canceled")]


def test_each_new_difference_is_announced_once_and_agreement_once_each_time():
    reconciliation = Reconciliation.of(CONTRACT_ID)
    quantity = Difference(kind="line", item=str(LINE_ID), field="quantity", signed="10", active="12")
    price = Difference(kind="line", item=str(LINE_ID), field="unit_price", signed="120", active="1")

    assert reconciliation.checked([], [], AT) == RECONCILED
    assert reconciliation.checked([], [], AT) == RECONCILED
    assert reconciliation.checked([quantity], [], AT) == MISMATCHED
    assert reconciliation.checked([quantity], [quantity], AT) == MISMATCHED  # persists: not again
    assert reconciliation.checked([quantity, price], [quantity], AT) == MISMATCHED
    assert reconciliation.checked([], [quantity, price], AT) == RECONCILED
    assert reconciliation.checked([quantity], [], AT) == MISMATCHED  # back again after agreement: new
    events = reconciliation.pending_events
    assert {e.contract_id for e in events} == {CONTRACT_ID}
    assert [type(e) for e in events] == [ContractReconciled, ReconciliationMismatch, ReconciliationMismatch,
                                         ContractReconciled, ReconciliationMismatch]
    assert [e.difference.field for e in events if isinstance(e, ReconciliationMismatch)] == ["quantity", "unit_price", "quantity"]
