"""Service contract timers on real PostgreSQL and Kafka.

Order sync's events arrive on its topic exactly as it publishes them (CloudEvents keyed by the
contract id); the scheduler keeps a timer per item and transition in the contract's zone, moves
them with the dates, drops them when items activate or end, and fires what is due as one
ServiceContractDateReached per contract: once, with two replicas sweeping, and after downtime.
A sweep reads only the due timers (the plan test), and fires large batches set-based.
"""

import asyncio
import datetime as dt
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.catalogue import by_name
from services.lifecycle_scheduler.adapters.service_timers import CLAIM_DUE, CLAIM_DUE_AFTER
from services.lifecycle_scheduler.application.timetables import SweepMark, fire_due_service_timers
from services.lifecycle_scheduler.domain.timetable import ServiceContractTimetable
from shared.backbone.app import ServiceContext
from shared.backbone.clock import AdjustableClock
from shared.backbone.outbox import OutboxRelay
from shared.events import topics
from shared.events.base import Event
from shared.events.contracts import ContractActivated, Party
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineEdited,
    ContractLineExpired,
    ContractLineRemoved,
    ContractLineTerms,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementExpired,
    EntitlementTerms,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)
from shared.events.envelope import Envelope, from_kafka, to_kafka
from tests.conftest import bearer, eventually, migrated_schema, running_service

pytestmark = pytest.mark.integration

D = dt.date
SCHEDULER_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "lifecycle_scheduler" / "adapters" / "migrations"


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def line(state=ServiceState.DRAFT, start=D(2031, 1, 1), end=D(2031, 12, 31)) -> ContractLineTerms:
    return ContractLineTerms(line_id=uuid.uuid4(), product="Premium support", quantity=1, unit_price=100,
                             start_date=start, end_date=end, state=state)


def entitlement(line_id=None, state=ServiceState.DRAFT, start=D(2031, 1, 1), end=D(2031, 12, 31)) -> EntitlementTerms:
    return EntitlementTerms(entitlement_id=uuid.uuid4(), line_id=line_id, name="onsite-repair",
                            start_date=start, end_date=end, state=state)


def drafted(zone="UTC", start=D(2031, 1, 1), end=D(2031, 12, 31), lines=(), entitlements=()) -> ServiceContractDrafted:
    return ServiceContractDrafted(contract_id=uuid.uuid4(), number="SC-T", account="ACME Robotics", start_date=start,
                                  end_date=end, time_zone=zone, lines=list(lines), entitlements=list(entitlements))


async def publish(stack, *events: Event) -> list[Envelope]:
    """As order sync's relay does: CloudEvents in binary mode, keyed by the contract id."""
    envelopes = [Envelope(event, stream_version=i) for i, event in enumerate(events, start=1)]
    producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            topic, headers, value, key = to_kafka(envelope)
            assert topic == topics.ORDER_SYNC_SERVICE_CONTRACTS
            await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    return envelopes


def scheduler_env(service_env, **extra):
    return service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05", **extra)


async def timers_view(scheduler, contract_id) -> dict | None:
    r = await scheduler.get(f"/api/v1/service-contracts/{contract_id}/timers", headers=bearer("sales_ops"))
    return r.json() if r.status_code == 200 else None


def brief(view: dict) -> set[tuple]:
    """(item_kind, item_id, transition, due_at, fired) of each timer."""
    return {(t["item_kind"], t["item_id"], t["transition"], t["due_at"], t["fired_at"] is not None) for t in view["timers"]}


async def shows(scheduler, contract_id, expected: set[tuple]) -> dict:
    async def check():
        view = await timers_view(scheduler, contract_id)
        assert view is not None and brief(view) == expected, view and sorted(brief(view))
        return view

    return await eventually(check)


async def dates_reached(engine, contract_id) -> list[dict]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT payload FROM events WHERE stream_id = :s ORDER BY version"),
            {"s": ServiceContractTimetable.stream_id(contract_id)},
        )
        return [r.payload for r in rows]


async def processed(engine, envelope: Envelope) -> bool:
    async with engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM inbox WHERE event_id = :e")
        return (await conn.execute(query, {"e": envelope.event_id})).scalar_one() == 1


async def sweep_at(scheduler, instant: dt.datetime) -> None:
    """Moves the scheduler's time and sweeps until nothing more is due.

    The service's own loop sweeps too: a timer it has claimed is skipped here (SKIP LOCKED), so
    this waits until no timer due by then is left unfired, whoever fired it.
    """
    ctx = scheduler.app.state.context
    ctx.clock.set(instant)
    while await fire_due_service_timers(ctx):
        pass

    async def none_left_due():
        async with ctx.engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM service_timers WHERE fired_at IS NULL AND due_at <= :now")
            assert (await conn.execute(query, {"now": instant})).scalar_one() == 0
        return True

    await eventually(none_left_due)


def c(contract_id) -> str:
    return str(contract_id)


async def _equals(value_coroutine, expected) -> bool:
    return await value_coroutine == expected


# -- timers from events -----------------------------------------------------------------------


async def test_a_drafted_contract_gets_timers_for_its_open_items_in_its_zone(service_env, stack):
    # New York springs forward on 2031-03-09: the contract starts that day, the line the day after.
    draft_line = line(start=D(2031, 3, 10), end=D(2031, 11, 1))
    active_line = line(ServiceState.ACTIVE, start=D(2031, 3, 9), end=D(2031, 11, 2))
    expired_line = line(ServiceState.EXPIRED)
    attached = entitlement(draft_line.line_id, start=D(2031, 3, 10), end=D(2031, 6, 30))
    event = drafted("America/New_York", D(2031, 3, 9), D(2031, 11, 2), [draft_line, active_line, expired_line], [attached])

    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        await publish(stack, event)
        view = await shows(scheduler, event.contract_id, {
            ("contract", c(event.contract_id), "activation", "2031-03-09T05:00:00Z", False),  # midnight EST
            ("contract", c(event.contract_id), "expiry", "2031-11-03T05:00:00Z", False),  # back on EST
            ("line", c(draft_line.line_id), "activation", "2031-03-10T04:00:00Z", False),  # midnight EDT
            ("line", c(draft_line.line_id), "expiry", "2031-11-02T04:00:00Z", False),  # EDT until 02:00
            ("line", c(active_line.line_id), "expiry", "2031-11-03T05:00:00Z", False),
            ("entitlement", c(attached.entitlement_id), "activation", "2031-03-10T04:00:00Z", False),
            ("entitlement", c(attached.entitlement_id), "expiry", "2031-07-01T04:00:00Z", False),
        })
        assert view["time_zone"] == "America/New_York"
        assert [t["due_at"] for t in view["timers"]] == sorted(t["due_at"] for t in view["timers"])
        assert {t["due_on"] for t in view["timers"] if t["transition"] == "expiry"} == {"2031-11-03", "2031-11-02", "2031-07-01"}


async def test_each_contract_fires_at_the_start_of_the_day_in_its_own_zone(service_env, stack):
    in_utc = drafted("UTC", D(2031, 3, 9), D(2031, 12, 31))
    in_new_york = drafted("America/New_York", D(2031, 3, 9), D(2031, 12, 31))

    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        engine = scheduler.app.state.context.engine
        await publish(stack, in_utc, in_new_york)
        for contract in (in_utc, in_new_york):
            await eventually(lambda: timers_view(scheduler, contract.contract_id))

        await sweep_at(scheduler, at(2031, 3, 9, 4, 50))  # the clock runs on from there; midnight in UTC, still the 8th in New York
        assert [e["date"] for e in await dates_reached(engine, in_utc.contract_id)] == ["2031-03-09"]
        assert await dates_reached(engine, in_new_york.contract_id) == []

        await sweep_at(scheduler, at(2031, 3, 9, 5, 0))  # midnight EST
        [reached] = await dates_reached(engine, in_new_york.contract_id)
        assert reached["date"] == "2031-03-09" and reached["time_zone"] == "America/New_York"
        assert reached["reached_at"].startswith("2031-03-09T05:00:00")  # the sweep's time, a moment after
        assert reached["due"] == [{"item_kind": "contract", "item_id": c(in_new_york.contract_id),
                                   "transition": "activation", "due_at": "2031-03-09T05:00:00Z"}]
        assert len(await dates_reached(engine, in_utc.contract_id)) == 1


# -- rescheduling -----------------------------------------------------------------------------


async def test_an_end_extended_before_expiry_fires_at_the_new_end_and_not_the_old(service_env, stack):
    contract = drafted("Europe/Berlin", D(2031, 1, 1), D(2031, 6, 30))
    cid = contract.contract_id

    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        engine = scheduler.app.state.context.engine
        await publish(stack, contract, ServiceContractActivated(contract_id=cid, effective_on=D(2031, 1, 1)))
        await shows(scheduler, cid, {("contract", c(cid), "expiry", "2031-06-30T22:00:00Z", False)})

        await publish(stack, ServiceContractDatesChanged(contract_id=cid, start_date=D(2031, 1, 1), end_date=D(2031, 9, 30)))
        await shows(scheduler, cid, {("contract", c(cid), "expiry", "2031-09-30T22:00:00Z", False)})

        await sweep_at(scheduler, at(2031, 7, 1, 12, 0))  # past the old instant
        assert await dates_reached(engine, cid) == []

        await sweep_at(scheduler, at(2031, 9, 30, 22, 0))
        [reached] = await dates_reached(engine, cid)
        assert reached["date"] == "2031-10-01"
        assert reached["due"] == [{"item_kind": "contract", "item_id": c(cid), "transition": "expiry",
                                   "due_at": "2031-09-30T22:00:00Z"}]


async def test_an_end_extended_after_expiry_fired_fires_again_at_the_new_end(service_env, stack):
    early_line = line(ServiceState.ACTIVE, D(2031, 1, 1), D(2031, 3, 31))
    contract = drafted("UTC", D(2031, 1, 1), D(2031, 12, 31), [early_line])
    cid, lid = contract.contract_id, early_line.line_id

    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        engine = scheduler.app.state.context.engine
        await publish(stack, contract, ServiceContractActivated(contract_id=cid, effective_on=D(2031, 1, 1)))
        await shows(scheduler, cid, {("contract", c(cid), "expiry", "2032-01-01T00:00:00Z", False),
                                     ("line", c(lid), "expiry", "2031-04-01T00:00:00Z", False)})
        await sweep_at(scheduler, at(2031, 4, 1, 0, 0, 1))
        assert [e["date"] for e in await dates_reached(engine, cid)] == ["2031-04-01"]
        await shows(scheduler, cid, {("contract", c(cid), "expiry", "2032-01-01T00:00:00Z", False),
                                     ("line", c(lid), "expiry", "2031-04-01T00:00:00Z", True)})

        # The same end again is no change: the timer stays fired and does not fire twice.
        [same] = await publish(stack, ContractLineDatesChanged(contract_id=cid, line_id=lid, start_date=D(2031, 1, 1),
                                                                end_date=D(2031, 3, 31)))
        await eventually(lambda: processed(engine, same))
        await sweep_at(scheduler, at(2031, 4, 1, 0, 0, 2))
        assert len(await dates_reached(engine, cid)) == 1

        await publish(stack, ContractLineDatesChanged(contract_id=cid, line_id=lid, start_date=D(2031, 1, 1),
                                                      end_date=D(2031, 5, 31)))
        await shows(scheduler, cid, {("contract", c(cid), "expiry", "2032-01-01T00:00:00Z", False),
                                     ("line", c(lid), "expiry", "2031-06-01T00:00:00Z", False)})
        await sweep_at(scheduler, at(2031, 5, 31, 23, 50))
        assert len(await dates_reached(engine, cid)) == 1
        await sweep_at(scheduler, at(2031, 6, 1))
        first, second = await dates_reached(engine, cid)
        assert second["date"] == "2031-06-01"
        assert second["due"] == [{"item_kind": "line", "item_id": c(lid), "transition": "expiry",
                                  "due_at": "2031-06-01T00:00:00Z"}]


# -- removal ----------------------------------------------------------------------------------


async def test_activations_and_ended_items_remove_their_timers(service_env, stack):
    removed_line, kept_line = line(), line()
    on_removed, on_contract, on_kept = (entitlement(removed_line.line_id), entitlement(),
                                        entitlement(kept_line.line_id, start=D(2031, 2, 1), end=D(2031, 5, 31)))
    contract = drafted("UTC", D(2031, 1, 1), D(2031, 12, 31), [removed_line, kept_line], [on_removed, on_contract, on_kept])
    cid = contract.contract_id
    added = entitlement(kept_line.line_id, start=D(2031, 3, 1), end=D(2031, 6, 30))

    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        engine = scheduler.app.state.context.engine
        await publish(
            stack, contract,
            ServiceContractActivated(contract_id=cid, effective_on=D(2031, 1, 1)),
            ContractLineActivated(contract_id=cid, line_id=kept_line.line_id, effective_on=D(2031, 1, 1)),
            EntitlementCanceled(contract_id=cid, entitlement_id=on_contract.entitlement_id, effective_on=D(2031, 1, 1)),
            ContractLineRemoved(contract_id=cid, line_id=removed_line.line_id),  # and the entitlement on it
            ContractLineEdited(contract_id=cid, line_id=kept_line.line_id, product="Gold support", unit_price=120),
            ContractLineDisconnected(contract_id=cid, line_id=kept_line.line_id, end_date=D(2031, 8, 31),
                                     previous_end_date=D(2031, 12, 31)),
            EntitlementAdded(contract_id=cid, entitlement=added),
        )
        await shows(scheduler, cid, {
            ("contract", c(cid), "expiry", "2032-01-01T00:00:00Z", False),
            ("line", c(kept_line.line_id), "expiry", "2031-09-01T00:00:00Z", False),
            ("entitlement", c(on_kept.entitlement_id), "activation", "2031-02-01T00:00:00Z", False),
            ("entitlement", c(on_kept.entitlement_id), "expiry", "2031-06-01T00:00:00Z", False),
            ("entitlement", c(added.entitlement_id), "activation", "2031-03-01T00:00:00Z", False),
            ("entitlement", c(added.entitlement_id), "expiry", "2031-07-01T00:00:00Z", False),
        })
        await sweep_at(scheduler, at(2031, 2, 1))
        await publish(stack, ServiceContractCanceled(contract_id=cid, effective_on=D(2031, 2, 2), reason="customer left"))
        # Unfired timers go; the one that fired stays listed.
        await shows(scheduler, cid, {("entitlement", c(on_kept.entitlement_id), "activation", "2031-02-01T00:00:00Z", True)})

        await sweep_at(scheduler, at(2032, 6, 1))
        assert [e["date"] for e in await dates_reached(engine, cid)] == ["2031-02-01"]


async def test_an_expired_line_takes_its_entitlements_timers_and_an_expired_contract_all(service_env, stack):
    expiring_line, other_line = line(ServiceState.ACTIVE), line(ServiceState.ACTIVE)
    attached = entitlement(expiring_line.line_id, ServiceState.ACTIVE)
    contract = drafted("UTC", D(2031, 1, 1), D(2031, 12, 31), [expiring_line, other_line], [attached])
    cid = contract.contract_id

    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        engine = scheduler.app.state.context.engine
        await publish(stack, contract, ContractLineExpired(contract_id=cid, line_id=expiring_line.line_id,
                                                           effective_on=D(2031, 3, 1)))
        await shows(scheduler, cid, {("contract", c(cid), "activation", "2031-01-01T00:00:00Z", False),
                                     ("contract", c(cid), "expiry", "2032-01-01T00:00:00Z", False),
                                     ("line", c(other_line.line_id), "expiry", "2032-01-01T00:00:00Z", False)})
        await publish(stack, ServiceContractExpired(contract_id=cid, effective_on=D(2031, 3, 2)))
        await shows(scheduler, cid, set())
        await sweep_at(scheduler, at(2032, 6, 1))
        assert await dates_reached(engine, cid) == []


# -- exactly once -----------------------------------------------------------------------------


async def _kafka_dates_reached(stack, contract_ids: set[str], expected: int) -> tuple[Counter, dict[str, list[int]]]:
    """Event ids of ServiceContractDateReached on its topic for these contracts, and each key's stream versions."""
    consumer = AIOKafkaConsumer(topics.LIFECYCLE_SERVICE_CONTRACT_DATES, **stack.kafka_admin.options(), group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    seen: Counter = Counter()
    versions: dict[str, list[int]] = {}
    try:
        async with asyncio.timeout(60):
            while len(seen) < expected:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    for m in messages:
                        envelope = from_kafka(m.headers, m.key, m.value)
                        if envelope.event.event_type == "ServiceContractDateReached" and envelope.key in contract_ids:
                            if not seen[envelope.event_id]:  # a relay resend is a duplicate, not a version
                                versions.setdefault(envelope.key, []).append(envelope.stream_version)
                            seen[envelope.event_id] += 1
    finally:
        await consumer.stop()
    return seen, versions


async def test_two_replicas_fire_every_timer_exactly_once(service_env, stack):
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland"]
    contracts = []
    for i in range(20):
        lines = [line(start=D(2031, 1 + k, 1), end=D(2031, 6 + k, 28)) for k in range(3)]
        ents = [entitlement(lines[k].line_id, start=D(2031, 2 + k, 1), end=D(2031, 6 + k, 28)) for k in range(3)]
        contracts.append(drafted(zones[i % 4], D(2031, 1, 1), D(2031, 12, 31), lines, ents))
    ids = [x.contract_id for x in contracts]
    env = scheduler_env(service_env)

    async with AsyncExitStack() as running:
        one = await running.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await running.enter_async_context(running_service("lifecycle_scheduler", env))
        engine = one.app.state.context.engine
        await publish(stack, *contracts)

        async def timer_rows(fired: bool | None = None) -> int:
            async with engine.connect() as conn:
                query = "SELECT count(*) FROM service_timers WHERE contract_id = ANY(:ids)"
                if fired is not None:
                    query += f" AND fired_at IS {'NOT ' if fired else ''}NULL"
                return (await conn.execute(sa.text(query), {"ids": ids})).scalar_one()

        await eventually(lambda: _equals(timer_rows(), 20 * 14))
        assert await timer_rows(fired=True) == 0

        # Both replicas' loops sweep, and many small concurrent sweeps contend for the same contracts.
        contexts = [one.app.state.context, two.app.state.context]
        for ctx in contexts:
            ctx.clock.set(at(2032, 1, 15))

        async def sweep_small(ctx):
            while await fire_due_service_timers(ctx, batch_size=5):
                pass

        await asyncio.gather(*(sweep_small(ctx) for ctx in contexts for _ in range(4)))
        await eventually(lambda: _equals(timer_rows(fired=False), 0))
        await asyncio.sleep(1.0)  # many more sweeps by both loops

        recorded = 0
        for contract in contracts:
            reached = await dates_reached(engine, contract.contract_id)
            due = Counter((d["item_id"], d["transition"]) for e in reached for d in e["due"])
            assert len(due) == 14 and set(due.values()) == {1}, (contract.contract_id, due)
            assert all(e["time_zone"] == contract.time_zone for e in reached)
            recorded += len(reached)

        # Through the outbox to Kafka: each recorded event once.
        on_kafka, versions = await _kafka_dates_reached(stack, {str(i) for i in ids}, recorded)
        assert len(on_kafka) == recorded
        # What the envelope promises downstream: per key on the topic, ce_streamversion runs 1, 2, 3, ...
        assert all(v == list(range(1, len(v) + 1)) for v in versions.values()), versions


async def test_a_timer_due_while_the_scheduler_was_down_fires_on_its_first_sweep_back(service_env, stack):
    contract = drafted("Europe/Berlin", D(2025, 3, 1), D(2025, 8, 31))  # both dates passed in real time
    cid = contract.contract_id
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as before:
        before.app.state.context.clock.set(at(2024, 1, 1))
        engine = before.app.state.context.engine
        await publish(stack, contract)
        await shows(before, cid, {("contract", c(cid), "activation", "2025-02-28T23:00:00Z", False),
                                  ("contract", c(cid), "expiry", "2025-08-31T22:00:00Z", False)})
        await sweep_at(before, at(2024, 1, 1))
        assert await dates_reached(engine, cid) == []

    # Down while both fall due; back on the system clock.
    env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="false", SCHEDULER_TICK_SECONDS="0.1")
    async with running_service("lifecycle_scheduler", env) as after:
        engine = after.app.state.context.engine
        reached = await eventually(lambda: dates_reached(engine, cid))
        assert len(reached) == 1
        assert reached[0]["date"] == "2025-09-01"
        assert [(d["transition"], d["due_at"]) for d in reached[0]["due"]] == [
            ("activation", "2025-02-28T23:00:00Z"), ("expiry", "2025-08-31T22:00:00Z")]
        await shows(after, cid, {("contract", c(cid), "activation", "2025-02-28T23:00:00Z", True),
                                 ("contract", c(cid), "expiry", "2025-08-31T22:00:00Z", True)})


# -- REST -------------------------------------------------------------------------------------


async def test_timers_resource_needs_a_token_and_a_known_contract(service_env, stack):
    async with running_service("lifecycle_scheduler", scheduler_env(service_env)) as scheduler:
        unknown = uuid.uuid4()
        r = await scheduler.get(f"/api/v1/service-contracts/{unknown}/timers")
        assert r.status_code == 401
        r = await scheduler.get(f"/api/v1/service-contracts/{unknown}/timers", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = await scheduler.get(f"/api/v1/service-contracts/{unknown}/timers", headers=bearer("asset_manager"))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["rule"] == "service_contract.not_found" and str(unknown) in r.json()["detail"]

        contract = drafted()
        await publish(stack, contract)
        view = await eventually(lambda: timers_view(scheduler, contract.contract_id))
        r = await scheduler.get(f"/api/v1/service-contracts/{contract.contract_id}/timers", headers=bearer("finance"))
        assert r.status_code == 200 and r.json() == view
        assert view["timers"][0] == {"item_kind": "contract", "item_id": c(contract.contract_id),
                                     "transition": "activation", "due_on": "2031-01-01",
                                     "due_at": "2031-01-01T00:00:00Z", "fired_at": None}


# -- cost: what is due, not what exists --------------------------------------------------------


@pytest_asyncio.fixture
async def scheduler_schema(stack):
    """A fresh schema with the scheduler's migrations, and a context to sweep it with."""
    async with migrated_schema(stack, SCHEDULER_MIGRATIONS, "scratch_sched") as engine:
        relay = OutboxRelay(engine, lambda: None, service="test")
        yield ServiceContext(by_name("lifecycle_scheduler"), None, engine, relay, AdjustableClock())


async def _insert_timers(engine, contracts: int, per_contract: int, due, later=None) -> None:
    """`contracts` x `per_contract` unfired timers, a contract's together as the consumer writes
    them. With `later`, timer n is due at `due` when n % 1000 = 0, else at `later` + n seconds;
    without, all are due at `due`."""
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO service_contract_zones SELECT md5('c' || g)::uuid, 'Europe/Berlin' FROM generate_series(1, :n) g"
        ), {"n": contracts})
        await conn.execute(sa.text(
            """
            INSERT INTO service_timers (contract_id, item_id, transition, item_kind, due_on, due_at)
            SELECT md5('c' || ((g - 1) / :per_contract + 1))::uuid, md5('i' || g)::uuid, 'expiry',
                   CASE WHEN g % :per_contract = 1 THEN 'contract' ELSE 'line' END,
                   CAST(:due AS timestamptz)::date,
                   CASE WHEN CAST(:later AS timestamptz) IS NULL OR g % 1000 = 0 THEN CAST(:due AS timestamptz)
                        ELSE CAST(:later AS timestamptz) + g * interval '1 second' END
            FROM generate_series(1, :n) g
            """
        ), {"per_contract": per_contract, "n": contracts * per_contract, "due": due, "later": later})
        await conn.execute(sa.text("ANALYZE service_contract_zones"))
        await conn.execute(sa.text("ANALYZE service_timers"))


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def test_a_sweep_reads_the_due_timers_and_not_the_million_unfired(scheduler_schema):
    ctx = scheduler_schema
    now = at(2031, 1, 1)
    await _insert_timers(ctx.engine, contracts=200_000, per_contract=5, due=now - dt.timedelta(hours=1),
                         later=at(2040, 1, 1))
    async with ctx.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM service_timers WHERE fired_at IS NULL"))).scalar_one() == 1_000_000
        table_pages = (await conn.execute(sa.text("SELECT relpages FROM pg_class WHERE relname = 'service_timers' "
                                                  "AND relnamespace = current_schema()::regnamespace"))).scalar_one()
        explained = (await conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + CLAIM_DUE.text),
                                        {"now": now, "limit": 5000})).scalar_one()
        await conn.rollback()  # EXPLAIN ANALYZE took the locks: let them go

    plan = explained[0]["Plan"]
    nodes = list(_nodes(plan))
    scans = [n for n in nodes if n.get("Relation Name") == "service_timers"]
    assert [n["Node Type"] for n in scans] == ["Index Scan"], [n["Node Type"] for n in nodes]
    [scan] = scans
    assert scan["Index Name"] == "service_timers_due"
    assert scan["Actual Rows"] == 1000  # the due ones, read in due order, and no more
    assert scan.get("Rows Removed by Filter", 0) == 0
    assert not any(n["Node Type"] in ("Seq Scan", "Sort", "Bitmap Heap Scan") for n in nodes)
    assert plan["Actual Rows"] == 1000
    touched = scan["Shared Hit Blocks"] + scan["Shared Read Blocks"]
    assert touched < table_pages / 5, (touched, table_pages)

    ctx.clock.set(now)
    mark = SweepMark()
    assert await fire_due_service_timers(ctx, batch_size=5000, mark=mark) == 1000
    assert await fire_due_service_timers(ctx, batch_size=5000, mark=mark) == 0

    # The sweep's next batches start at its mark: in the index, not by filtering what they read.
    async with ctx.engine.connect() as conn:
        params = {"now": now, "limit": 5000, "after_due_at": mark.due_at, "after_contract_id": mark.contract_id}
        explained = (await conn.execute(sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + CLAIM_DUE_AFTER.text), params)).scalar_one()
        await conn.rollback()
    [scan] = [n for n in _nodes(explained[0]["Plan"]) if n.get("Relation Name") == "service_timers"]
    assert (scan["Node Type"], scan["Index Name"]) == ("Index Scan", "service_timers_due")
    assert "contract_id" in scan["Index Cond"] and scan["Actual Rows"] == 0


async def test_a_large_batch_fires_one_event_per_contract(scheduler_schema, capsys):
    ctx = scheduler_schema
    due = at(2031, 7, 1)
    contracts, per_contract = 10_000, 7
    await _insert_timers(ctx.engine, contracts, per_contract, due)
    ctx.clock.set(due)

    started = time.perf_counter()
    fired, mark = 0, SweepMark()
    while n := await fire_due_service_timers(ctx, mark=mark):
        fired += n
    elapsed = time.perf_counter() - started

    async with ctx.engine.connect() as conn:
        events = (await conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT stream_id), min(jsonb_array_length(payload->'due')), "
            "max(jsonb_array_length(payload->'due')) FROM events WHERE event_type = 'ServiceContractDateReached'"
        ))).one()
        unfired = (await conn.execute(sa.text("SELECT count(*) FROM service_timers WHERE fired_at IS NULL"))).scalar_one()
    assert fired == contracts * per_contract and unfired == 0
    assert tuple(events) == (contracts, contracts, per_contract, per_contract)
    with capsys.disabled():
        print(f"\nfired {contracts} contracts x {per_contract} timers in {elapsed:.2f}s: "
              f"{contracts / elapsed:,.0f} contracts/s, {fired / elapsed:,.0f} timers/s")


# -- a fetch's events at once ------------------------------------------------------------------


def _mixed_run(held: ServiceContractDrafted, p_line: uuid.UUID, p_entitlement: uuid.UUID) -> tuple[list[Event], tuple]:
    """Order sync's events of several contracts in one fetch, as the consumer gets them: a contract
    activated then expired, a timer written and removed, a contract ended then recorded again, a
    zone changed, a fired timer moved away and back, and the legal contract's activation between."""
    l1 = line()
    e1, e2 = entitlement(line_id=l1.line_id), entitlement()
    a = drafted(zone="Europe/Berlin", lines=[l1], entitlements=[e1, e2])
    b, c = drafted(zone="America/New_York"), drafted()
    e3 = entitlement(start=D(2031, 3, 1))
    legal = ContractActivated(contract_id=uuid.uuid4(), number="C-1", title="Robot maintenance",
                              contract_model="maintenance", parties=[Party(role="customer", name="ACME")],
                              start_date=D(2031, 1, 1), end_date=D(2031, 12, 31), time_zone="UTC")
    return [
        a, b,
        ServiceContractActivated(contract_id=a.contract_id, effective_on=D(2031, 1, 1)),
        ContractLineActivated(contract_id=a.contract_id, line_id=l1.line_id, effective_on=D(2031, 1, 1)),
        legal,
        EntitlementExpired(contract_id=held.contract_id, entitlement_id=p_entitlement, effective_on=D(2031, 1, 1)),
        EntitlementAdded(contract_id=b.contract_id, entitlement=e3),
        ServiceContractDatesChanged(contract_id=held.contract_id, start_date=D(2030, 6, 2), end_date=D(2032, 6, 30)),
        ContractLineDatesChanged(contract_id=held.contract_id, line_id=p_line, start_date=D(2030, 6, 1),
                                 end_date=D(2032, 3, 31)),
        ServiceContractDatesChanged(contract_id=held.contract_id, start_date=D(2030, 6, 1), end_date=D(2032, 9, 30)),
        ServiceContractExpired(contract_id=a.contract_id, effective_on=D(2032, 1, 1)),
        EntitlementCanceled(contract_id=b.contract_id, entitlement_id=e3.entitlement_id, effective_on=D(2031, 2, 1)),
        c,
        ContractLineAdded(contract_id=c.contract_id, line=line(start=D(2031, 2, 1))),
        ServiceContractCanceled(contract_id=c.contract_id, effective_on=D(2031, 1, 1)),
        ServiceContractRecorded(contract_id=c.contract_id, number="SC-C", account="ACME Robotics",
                                start_date=D(2031, 5, 1), end_date=D(2031, 12, 31), time_zone="UTC"),
        ServiceContractDrafted(**{**b.model_dump(), "time_zone": "Asia/Tokyo"}),
    ], (a.contract_id, b.contract_id, c.contract_id)


async def _timer_rows(engine) -> list[tuple]:
    async with engine.connect() as conn:
        service = await conn.execute(sa.text(
            "SELECT contract_id, item_id, transition, item_kind, line_id, due_on, due_at, fired_at IS NOT NULL "
            "FROM service_timers ORDER BY contract_id, item_id, transition"))
        zones = await conn.execute(sa.text("SELECT * FROM service_contract_zones ORDER BY contract_id"))
        legal = await conn.execute(sa.text("SELECT contract_id, kind, due_at, fired_at FROM timers ORDER BY contract_id"))
        return [tuple(r) for r in [*service, *zones, *legal]]


async def test_a_run_of_events_leaves_the_timers_one_by_one_would(stack):
    """The consumer applies a fetch's events of a partition together (one statement per kind of
    change); what is left must be what applying them one at a time, as before, leaves."""
    from shared.backbone.inbox import apply_batch, apply_once
    from shared.backbone.event_routing import dispatcher
    from services.lifecycle_scheduler.main import definition

    [subscription] = [s for s in definition.subscriptions if ServiceContractDrafted in s.handlers]
    handle = dispatcher(subscription.handlers)
    p_line, p_entitlement = line(start=D(2030, 6, 1)), entitlement(start=D(2030, 6, 1))
    held = drafted(start=D(2030, 6, 1), lines=[p_line], entitlements=[p_entitlement])
    events, (a_id, b_id, c_id) = _mixed_run(held, p_line.line_id, p_entitlement.entitlement_id)
    run = [Envelope(event, stream_version=1) for event in events]
    messages = [(envelope, topics.ORDER_SYNC_SERVICE_CONTRACTS, 0, offset) for offset, envelope in enumerate(run, 1)]

    left = []
    for together in (True, False):
        async with migrated_schema(stack, SCHEDULER_MIGRATIONS, "scratch_sched") as engine:
            ctx = ServiceContext(by_name("lifecycle_scheduler"), None, engine,
                                 OutboxRelay(engine, lambda: None, service="test"), AdjustableClock())
            # Before the run: a contract whose activations have fired.
            assert await apply_batch(engine, "s", [(Envelope(held, stream_version=1), "t", 0, 0)], handle) == [True]
            ctx.clock.set(at(2030, 6, 1))
            assert await fire_due_service_timers(ctx) == 3
            if together:
                assert await apply_batch(engine, "s", messages, handle) == [True] * len(run)
            else:
                for envelope, topic, partition, offset in messages:
                    assert await apply_once(engine, "s", envelope, handle, topic=topic, partition=partition, offset=offset)
            left.append(await _timer_rows(engine))

    assert left[0] == left[1]
    timers = {(r[0], r[1], r[2]): r for r in left[0] if len(r) == 8}
    assert not any(r[0] == a_id and not r[7] for r in timers.values())  # activated, then expired: nothing unfired
    assert {(r[3], r[2]) for r in timers.values() if r[0] == c_id} == {("contract", "activation"), ("contract", "expiry")}
    assert {r[3] for r in timers.values() if r[0] == b_id} == {"contract"}  # e3 written, then removed
    assert timers[(b_id, b_id, "expiry")][6] == at(2031, 12, 31, 15)  # rezoned to Tokyo
    moved = timers[(held.contract_id, held.contract_id, "activation")]
    assert (moved[5], moved[7]) == (D(2030, 6, 1), False)  # fired, moved away and back: due again
    assert timers[(held.contract_id, p_line.line_id, "activation")][7]  # moved to the same day: stays fired
    assert timers[(held.contract_id, held.contract_id, "expiry")][5] == D(2032, 10, 1)  # moved twice in one run
    assert (held.contract_id, p_entitlement.entitlement_id, "expiry") not in timers
    assert timers[(held.contract_id, p_entitlement.entitlement_id, "activation")][7]  # fired ones stay
