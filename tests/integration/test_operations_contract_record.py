"""The shared contract record of operations on real PostgreSQL and Kafka: a vendor contract from
asset_coverage's events shows in the projection with its terms, operational side and links (with
their dates), a history entry after a revision of its dates and terms, the filters find it, and the
rebuild from the topics gives the same rows."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from services.projection.adapters.contract_history import contract_history
from services.projection.adapters.contract_records import contract_assets, contracts
from services.projection.application.rebuild import rebuild
from shared.events.coverage import (
    AssetLinked, AssetLinkRevised, AssetUnlinked, Costs, OperationalContractActivated, OperationalContractCanceled,
    OperationalTerms, OperationalTermsSet, RenewalOptions, ServiceLevel, VendorContractRegistered,
    VendorContractRevised, VendorContractTerms,
)
from shared.events.envelope import Envelope
from tests.conftest import bearer, eventually, running_service
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

READER = bearer("finance")


def story(tag: str) -> tuple[uuid.UUID, uuid.UUID, list[Envelope]]:
    """A vendor contract registered, linked to two robots, activated, revised (a year longer), its
    costs set, one link ended early and one removed; a successor registered and canceled."""
    contract_id, successor_id = uuid.uuid4(), uuid.uuid4()
    terms = VendorContractTerms(
        number=f"VC-{tag}", vendor="KUKA Service GmbH", vendor_contract_number=f"KS-{tag}", name="Robot maintenance",
        customer="ACME Manufacturing", contract_model="maintenance", start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31), time_zone="Europe/Berlin")
    operational = OperationalTerms(sla=ServiceLevel(response_hours=Decimal(4), service_hours="24x7"),
                                   renewal=RenewalOptions(renewable=True, notice_days=90), owners=["ot-maria"])
    costed = operational.model_copy(update={"costs": Costs(currency="EUR", payment_amount=Decimal("12000.00"),
                                                           payment_schedule="annually", cost_center="CC-4711")})
    longer = terms.model_copy(update={"end_date": dt.date(2027, 12, 31)})
    events = [
        VendorContractRegistered(contract_id=contract_id, terms=terms, operational=operational),
        AssetLinked(contract_id=contract_id, asset_id=f"ROB-{tag}-1", asset_name="KR 210", effective_from=dt.date(2026, 2, 1)),
        AssetLinked(contract_id=contract_id, asset_id=f"ROB-{tag}-2", asset_name="KR 120"),
        OperationalContractActivated(contract_id=contract_id, on=dt.date(2026, 1, 1)),
        VendorContractRevised(contract_id=contract_id, terms=longer, changed=["end_date"]),
        OperationalTermsSet(contract_id=contract_id, operational=costed, changed=["costs"]),
        AssetLinkRevised(contract_id=contract_id, asset_id=f"ROB-{tag}-1", effective_from=dt.date(2026, 2, 1),
                         effective_to=dt.date(2026, 9, 30)),
        AssetUnlinked(contract_id=contract_id, asset_id=f"ROB-{tag}-2", reason="linked in error"),
    ]
    successor = [
        VendorContractRegistered(contract_id=successor_id, predecessor_id=contract_id, operational=operational,
                                 terms=terms.model_copy(update={"vendor_contract_number": f"KS-{tag}-R",
                                                                "start_date": dt.date(2028, 1, 1),
                                                                "end_date": dt.date(2028, 12, 31)})),
        OperationalContractCanceled(contract_id=successor_id, effective_on=dt.date(2028, 1, 1), reason="not renewed"),
    ]
    envelopes = [Envelope(e, i + 1) for i, e in enumerate(events)] + [Envelope(e, i + 1) for i, e in enumerate(successor)]
    return contract_id, successor_id, envelopes


async def snapshot(engine, ids: list[uuid.UUID]) -> list:
    async with engine.connect() as conn:
        return [sorted(tuple(r) for r in await conn.execute(sa.select(t).where(t.c.contract_id.in_(ids))))
                for t in (contracts, contract_assets, contract_history)]


async def test_a_vendor_contract_from_operations_is_on_the_shared_record_with_links_and_history(service_env, stack):
    tag = uuid.uuid4().hex[:6]
    contract_id, successor_id, envelopes = story(tag)
    async with running_service("projection", service_env("projection")) as projection:
        await publish(stack.kafka_admin, envelopes)

        async def settled():
            response = await projection.get(f"/api/v1/contracts/{successor_id}", headers=READER)
            record = (await projection.get(f"/api/v1/contracts/{contract_id}", headers=READER)).json()
            return (response.status_code == 200 and response.json()["state"] == "canceled"
                    and len(record.get("history", [])) == 4 and record)

        record = await eventually(settled, timeout=60)
        assert {k: record[k] for k in ("number", "vendor", "vendor_contract_number", "customer", "contract_model",
                                       "contract_origin", "state", "start_date", "end_date", "cost_center",
                                       "payment_schedule", "cost_currency", "renewable", "owners")} == {
            "number": f"VC-{tag}", "vendor": "KUKA Service GmbH", "vendor_contract_number": f"KS-{tag}",
            "customer": "ACME Manufacturing", "contract_model": "maintenance", "contract_origin": "operations",
            "state": "active", "start_date": "2026-01-01", "end_date": "2027-12-31", "cost_center": "CC-4711",
            "payment_schedule": "annually", "cost_currency": "EUR", "renewable": True, "owners": ["ot-maria"]}
        assert Decimal(record["payment_amount"]) == Decimal("12000") and Decimal(record["sla_response_hours"]) == 4
        assert [(a["asset_id"], a["effective_from"], a["effective_to"]) for a in record["assets"]] == [
            (f"ROB-{tag}-1", "2026-02-01", "2026-09-30")]
        history = [(h["event_type"], [(c["field"], c["before"], c["after"]) for c in h["changes"]]) for h in record["history"]]
        assert history[0] == ("VendorContractRevised", [("end_date", "2026-12-31", "2027-12-31")])
        assert history[1][0] == "OperationalTermsSet" and ("cost_center", None, "CC-4711") in history[1][1]
        assert history[2] == ("AssetLinkRevised", [(f"assets.ROB-{tag}-1.effective_to", None, "2026-09-30")])
        assert history[3][0] == "AssetUnlinked"

        successor = (await projection.get(f"/api/v1/contracts/{successor_id}", headers=READER)).json()
        assert (successor["parent_id"], successor["canceled_on"], successor["history"]) == (str(contract_id), "2028-01-01", [])

        async def found(**filters) -> set[str]:
            page = (await projection.get("/api/v1/contracts", params={**filters, "limit": 500}, headers=READER)).json()
            return {c["contract_id"] for c in page["items"]} & {str(contract_id), str(successor_id)}

        assert await found(asset_id=f"ROB-{tag}-1") == {str(contract_id)}
        assert await found(contract_origin="operations", vendor="kuka service gmbh",
                           contract_model="maintenance") == {str(contract_id), str(successor_id)}
        assert await found(state="canceled", vendor="KUKA Service GmbH") == {str(successor_id)}
        assert await found(ends_before="2028-01-01", contract_origin="operations") == {str(contract_id)}
        assert await found(contract_origin="contracting") == set()
        live = await snapshot(projection.app.state.context.engine, [contract_id, successor_id])

    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(service_env("projection")["DATABASE_URL"],
                                 connect_args={"server_settings": {"search_path": "projection"}})
    try:
        await rebuild(engine, stack.kafka_for("projection"))
        assert await snapshot(engine, [contract_id, successor_id]) == live
        assert [len(rows) for rows in live] == [2, 1, 4]
    finally:
        await engine.dispose()
