"""The service contract following its legal contract's tacit renewal, on real PostgreSQL and Kafka:
a contract activated into order sync (ContractActivated v2, one line fulfilled with its entitlement),
made Active by the scheduler's timers, then clm's ContractRenewed on clm.contracts.v1 (twice, as two
deliveries) -> the service contract, its line and its entitlement end on the new period's end, once,
in order sync and in the projection's record, and the scheduler's expiry timers moved there. At the period end itself the scheduler holds those
expiry timers (they fall due with the period end, whose renewal takes longer to come back) until the
renewal's new dates move them."""

import datetime as dt
import uuid

import pytest

from shared.events.envelope import Envelope
from shared.events.renewal_terms import ContractPeriod, ContractRenewed
from services.clm.domain.contract.readiness import CatalogueCopy
from tests.activation_story import AT, GOLD, ONSITE, executed_contract, quote_with_skus
from tests.conftest import bearer, eventually, running_service
from services.lifecycle_scheduler.domain.schedule import start_of_day
from tests.integration.test_activation import stream_types
from tests.integration.test_service_contract_timers import sweep_at
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

READER, OPS = bearer("finance"), bearer("sales_ops")
D = dt.date
# Started in the past (the scheduler activates it at once on the real clock), ending ahead of it.
START, END, NEW_END = D(2026, 1, 1), D(2027, 6, 30), D(2028, 6, 30)


def activated_contract(premium_sku: str, onsite_sku: str):
    quote = quote_with_skus(premium_sku, onsite_sku)
    quote = quote.model_copy(update={"lines": [ln.model_copy(update={"start_date": START, "end_date": END})
                                               for ln in quote.lines]})
    contract = executed_contract(quote, start=START, end=END)
    contract.start_reached({premium_sku: CatalogueCopy(premium_sku, 1, "Premium support", GOLD),
                            onsite_sku: CatalogueCopy(onsite_sku, 1, "Onsite service", ONSITE)}, at=AT, by="clm.activation")
    v1, v2, terms = contract.pending_events[-4], contract.pending_events[-3], contract.pending_events[-1]
    assert terms.event_type == "RenewalTermsSet" and terms.terms.renewal == "tacit" and terms.period.end_date == END
    return contract.contract_uuid, v1, v2, terms


def renewed(contract_id: uuid.UUID) -> ContractRenewed:
    period = ContractPeriod(number=2, start_date=END + dt.timedelta(days=1), end_date=NEW_END,
                            notice_deadline=D(2028, 3, 31), cancel_by=D(2028, 3, 1))
    return ContractRenewed(contract_id=contract_id, previous_end_date=END, period=period, renewals=1,
                           at=dt.datetime(2027, 6, 30, 22, 0, tzinfo=dt.UTC))


async def test_a_tacit_renewal_runs_the_service_contract_its_line_and_entitlement_on(service_env, stack):
    premium_sku, onsite_sku = f"SUP-PREM-{uuid.uuid4().hex[:6]}", f"ONSITE-{uuid.uuid4().hex[:6]}"
    cid, v1, v2, _ = activated_contract(premium_sku, onsite_sku)
    scheduler_env = service_env("lifecycle_scheduler", SCHEDULER_TICK_SECONDS="0.05")
    async with running_service("order_sync", service_env("order_sync")) as order_sync, \
            running_service("lifecycle_scheduler", scheduler_env) as scheduler, \
            running_service("projection", service_env("projection")) as projection:
        put = await order_sync.put(f"/api/v1/catalogue/{premium_sku}", headers=OPS, json={
            "product": "Premium support", "entitlements": [t.model_dump() for t in GOLD]})
        assert put.status_code == 200, put.text
        await publish(stack.kafka_admin, [Envelope(v1, 9), Envelope(v2, 10)])

        async def service_contract(state: str):
            r = await order_sync.get(f"/api/v1/service-contracts/{cid}", headers=READER)
            body = r.json() if r.status_code == 200 else None
            return body if body and body["state"] == state and body["lines"] and body["lines"][0]["state"] == state else None

        active = await eventually(lambda: service_contract("active"), timeout=60)  # the scheduler's activation timers fired
        [line], [ent] = active["lines"], active["entitlements"]
        assert (active["end_date"], line["end_date"], ent["end_date"]) == (END.isoformat(),) * 3

        await publish(stack.kafka_admin, [Envelope(renewed(cid), 20), Envelope(renewed(cid), 20)])  # two deliveries

        async def runs_on():
            body = await service_contract("active")
            return body if body and body["end_date"] == NEW_END.isoformat() else None

        shown = await eventually(runs_on, timeout=60)
        assert shown["lines"][0]["end_date"] == shown["entitlements"][0]["end_date"] == NEW_END.isoformat()
        assert shown["entitlements"][0]["state"] == "active"

        # Berlin: the day after the new end begins at 22:00 UTC (summer time)
        expiry = {(cid, "contract"), (uuid.UUID(line["line_id"]), "line"), (uuid.UUID(ent["entitlement_id"]), "entitlement")}

        async def timers_moved():
            r = await scheduler.get(f"/api/v1/service-contracts/{cid}/timers", headers=READER)
            timers = [t for t in r.json()["timers"] if t["transition"] == "expiry"] if r.status_code == 200 else []
            due = {(uuid.UUID(t["item_id"]), t["item_kind"]): (t["due_on"], t["due_at"], t["fired_at"]) for t in timers}
            return due if set(due) == expiry and set(due.values()) == {("2028-07-01", "2028-06-30T22:00:00Z", None)} else None

        await eventually(timers_moved, timeout=60)

        # the second delivery (another event id: past the inbox) found nothing ending on the old end
        async def applied_once():
            types = await stream_types(order_sync, str(cid))
            return types if "EntitlementDatesChanged" in types else None

        types = await eventually(applied_once, timeout=30)
        assert (types.count("ServiceContractDatesChanged"), types.count("ContractLineDatesChanged"),
                types.count("EntitlementDatesChanged")) == (1, 1, 1)

        async def in_the_read_model():  # the projection's service contract record follows the date events
            r = await projection.get(f"/api/v1/service-contracts/{cid}", headers=READER)
            record = r.json() if r.status_code == 200 else None
            ends = record and (record["end_date"], *(i["end_date"] for i in record["lines"] + record["entitlements"]))
            return record if ends == (NEW_END.isoformat(),) * 3 else None

        record = await eventually(in_the_read_model, timeout=60)
        assert record["state"] == "active"


async def test_at_the_period_end_the_expiry_waits_for_the_renewal(service_env, stack):
    premium_sku, onsite_sku = f"SUP-PREM-{uuid.uuid4().hex[:6]}", f"ONSITE-{uuid.uuid4().hex[:6]}"
    cid, v1, v2, terms = activated_contract(premium_sku, onsite_sku)
    scheduler_env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")
    async with running_service("order_sync", service_env("order_sync")) as order_sync, \
            running_service("lifecycle_scheduler", scheduler_env) as scheduler:
        put = await order_sync.put(f"/api/v1/catalogue/{premium_sku}", headers=OPS, json={
            "product": "Premium support", "entitlements": [t.model_dump() for t in GOLD]})
        assert put.status_code == 200, put.text
        await publish(stack.kafka_admin, [Envelope(v1, 9), Envelope(v2, 10), Envelope(terms, 12)])

        async def service_contract():
            r = await order_sync.get(f"/api/v1/service-contracts/{cid}", headers=READER)
            return r.json() if r.status_code == 200 else None

        async def active():
            body = await service_contract()
            return body if body and body["state"] == "active" and body["lines"][0]["state"] == "active" else None

        await eventually(active, timeout=60)

        async def expiries():
            r = await scheduler.get(f"/api/v1/service-contracts/{cid}/timers", headers=READER)
            return [t for t in r.json()["timers"] if t["transition"] == "expiry"] if r.status_code == 200 else []

        async def period_known():  # the scheduler has the renewal terms and the contract in force
            r = await scheduler.get(f"/api/v1/contracts/{cid}/period-timers", headers=READER)
            return r.json() if r.status_code == 200 and r.json().get("timers") else None

        await eventually(period_known, timeout=60)
        assert len(await eventually(expiries, timeout=30)) == 3
        period_end = start_of_day(END + dt.timedelta(days=1), "Europe/Berlin")
        await sweep_at(scheduler, period_end)

        held = await expiries()
        assert [t["fired_at"] for t in held] == [None] * 3
        assert all(dt.datetime.fromisoformat(t["due_at"]) > period_end for t in held), held  # postponed
        assert all(t["due_on"] == "2027-07-01" for t in held)
        assert (await active())["end_date"] == END.isoformat()  # nothing expired at the old end

        await publish(stack.kafka_admin, [Envelope(renewed(cid), 20)])

        async def moved():
            timers = await expiries()
            return timers if {(t["due_on"], t["fired_at"]) for t in timers} == {("2028-07-01", None)} else None

        await eventually(moved, timeout=60)
        shown = await active()
        assert (shown["end_date"], shown["lines"][0]["end_date"], shown["entitlements"][0]["end_date"]) == (
            NEW_END.isoformat(),) * 3
