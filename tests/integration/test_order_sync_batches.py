"""Order sync's consumed batches (shared/backbone/consumer.py `apply_batch`): the streams of a
batch of ServiceContractDateReached or ContractActivated (v2) events are read in one query and
their index rows written once at commit, and that gives the same events, causes and index rows as
applying them one by one."""

import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.backbone.inbox import apply_batch, apply_once
from shared.backbone.event_routing import dispatcher
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.lifecycle import ServiceContractDateReached
from services.order_sync.adapters.indexes import SqlIndexes
from services.order_sync.application import catalogue
from services.order_sync.application.consumed_events import reaching_dates
from services.order_sync.application.orders import taking_activations
from services.order_sync.application.indexing import save_indexes
from services.order_sync.domain.order import order_id_of
from services.order_sync.domain.service_contract import ServiceContract
from shared.events.activation import ContractActivatedV2
from tests.activation_story import AT, GOLD
from tests.conftest import migrated_schema
from tests.unit.test_orders import activated_v2
from tests.unit.test_service_contract_life_cycle import AFTER, END, START, entitlement, line

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "order_sync" / "adapters" / "migrations"
CONSUMER = "order_sync-time"
HANDLE = dispatcher({ServiceContractDateReached: reaching_dates})


def contracts(ids: list[dict]) -> list[ServiceContract]:
    """Drafts, the same in each schema: a line covering a product (with an entitlement on it) and
    a line starting later."""
    return [
        ServiceContract.draft(
            c["contract"], number=f"SC-{n}", account="ACME", start_date=START, end_date=END,
            lines=[line(product_id=c["product"], line_id=c["line"]), line(start=START + dt.timedelta(days=30), line_id=c["late"])],
            entitlements=[entitlement(line_id=c["line"], entitlement_id=c["entitlement"])])
        for n, c in enumerate(ids)
    ]


def date_reached(contract_id: uuid.UUID, day: dt.date, n: int) -> Envelope:
    return Envelope(ServiceContractDateReached(
        contract_id=contract_id, date=day, time_zone="UTC", reached_at=dt.datetime.combine(day, dt.time(), dt.UTC),
        due=[]), stream_version=1, correlation_id=f"corr-{n}")


async def seeded(engine, ids: list[dict]) -> None:
    async with UnitOfWork(engine, views=SqlIndexes) as uow:
        for contract in contracts(ids):
            uow.add(contract)
        await save_indexes(uow)
        await uow.commit()


async def recorded(engine) -> tuple[list, list, list]:
    """The events the date-reached events caused, and the index rows."""
    async with engine.connect() as conn:
        events = (await conn.execute(sa.text(
            "SELECT stream_id, version, event_type, payload, correlation_id, causation_id FROM events"
            " WHERE causation_id <> '' ORDER BY position"))).all()
        covered = (await conn.execute(sa.text("SELECT * FROM coverage ORDER BY product_id, contract_id"))).all()
        granted = (await conn.execute(sa.text("SELECT * FROM entitlement_index ORDER BY entitlement_id"))).all()
        ordered = (await conn.execute(sa.text("SELECT * FROM order_index ORDER BY order_id"))).all()
    return events, covered, granted, ordered


async def test_a_batch_of_dates_reached_gives_the_events_causes_and_index_rows_of_one_by_one(stack):
    ids = [{k: uuid.uuid4() for k in ("contract", "product", "line", "late", "entitlement")} for _ in range(4)]
    c = [i["contract"] for i in ids]
    envelopes = [date_reached(day_of[0], day_of[1], n) for n, day_of in enumerate([
        (c[0], START), (c[1], START), (uuid.uuid4(), START),  # a contract not (yet) known here
        (c[2], START), (c[0], AFTER),  # the same contract again: it expires
        (c[3], START + dt.timedelta(days=30)),  # its late line too
    ])]
    messages = [(e, "lifecycle", 0, offset) for offset, e in enumerate(envelopes)]
    async with migrated_schema(stack, MIGRATIONS, prefix="os_one") as one_by_one, \
            migrated_schema(stack, MIGRATIONS, prefix="os_batch") as batched:
        for engine in (one_by_one, batched):
            await seeded(engine, ids)
        for envelope, topic, partition, offset in messages:
            assert await apply_once(one_by_one, CONSUMER, envelope, HANDLE, topic=topic, partition=partition,
                                    offset=offset, views=SqlIndexes)
        assert await apply_batch(batched, CONSUMER, messages, HANDLE, views=SqlIndexes) == [True] * len(messages)
        expected, got = await recorded(one_by_one), await recorded(batched)

    assert got == expected
    events, covered, granted, _ = got
    caused = {(r.stream_id, r.causation_id, r.correlation_id) for r in events}
    assert caused == {(str(e.event.contract_id), str(e.event_id), e.correlation_id)
                      for e in envelopes if e.event.contract_id in c}
    assert [r.contract_id for r in covered] == [i["contract"] for i in sorted(ids, key=lambda i: i["product"])]
    assert {r.contract_id: r.state for r in granted} == {c[0]: "expired", c[1]: "active", c[2]: "active", c[3]: "active"}


async def test_a_batch_of_activations_gives_the_orders_events_and_index_rows_of_one_by_one(stack):
    """Activations of several contracts, one redelivered under another event id (its order exists:
    nothing more), with a SKU the catalogue has not published (fallout)."""
    first = activated_v2()
    activations = [first.model_copy(update={"contract_id": uuid.uuid4()}) for _ in range(3)]
    envelopes = [Envelope(a, 2, correlation_id=f"corr-{n}", time=AT)
                 for n, a in enumerate([*activations, activations[1]])]
    messages = [(e, "clm.contracts", 0, offset) for offset, e in enumerate(envelopes)]
    handle = dispatcher({ContractActivatedV2: taking_activations})
    async with migrated_schema(stack, MIGRATIONS, prefix="os_one") as one_by_one, \
            migrated_schema(stack, MIGRATIONS, prefix="os_batch") as batched:
        for engine in (one_by_one, batched):
            await catalogue.publish_entry(UnitOfWork(engine, views=SqlIndexes), "SUP-PREM", product="Premium support",
                                          entitlements=GOLD, by="ops", at=AT)
        for envelope, topic, partition, offset in messages:
            await apply_once(one_by_one, "order_sync", envelope, handle, topic=topic, partition=partition,
                             offset=offset, views=SqlIndexes)
        await apply_batch(batched, "order_sync", messages, handle, views=SqlIndexes)
        expected, got = await recorded(one_by_one), await recorded(batched)

    assert got == expected
    events, _, granted, ordered = got
    assert {(r.stream_id, r.causation_id) for r in events if r.event_type == "OrderCreated"} == {
        (str(order_id_of(a.contract_id)), str(e.event_id)) for a, e in zip(activations, envelopes)}
    assert {r.contract_id: (r.state, r.fallout_skus) for r in ordered} == {
        a.contract_id: ("fallout", ["ONSITE"]) for a in activations}
    assert {r.contract_id for r in granted} == {a.contract_id for a in activations}
