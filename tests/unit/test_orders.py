"""Order sync's catalogue and orders (phase 6): publishing and retiring a SKU's mapping; an
activated contract (ContractActivated v2) as an order whose lines are fulfilled onto the service
contract of the same id, with the catalogue's entitlements; fallout visible and retried."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.envelope import Envelope
from services.clm.domain.contract.readiness import CatalogueCopy
from services.order_sync.adapters.memory_indexes import MemoryIndexes
from services.order_sync.application import catalogue, orders
from services.order_sync.application import service_contracts as contracts
from services.order_sync.domain import rules
from services.order_sync.domain.catalogue import CatalogueEntry
from services.order_sync.domain.order import order_id_of
from tests.activation_story import AT, END, GOLD, ONSITE, START, executed_contract


class Clock:
    def now(self) -> dt.datetime:
        return AT


def activated_v2():
    """What clm publishes for approved_quote()'s contract: SUP-PREM x 2 (2027..2029), ONSITE x 1.5."""
    contract = executed_contract()
    contract.start_reached({"SUP-PREM": CatalogueCopy("SUP-PREM", 1, "Premium support", GOLD),
                            "ONSITE": CatalogueCopy("ONSITE", 1, "Onsite service", ONSITE)}, at=AT, by="clm.activation")
    return contract.activated


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryIndexes)


async def publish(new_uow, sku: str, entitlements=GOLD):
    return await catalogue.publish_entry(new_uow(), sku, product=f"Product {sku}", entitlements=entitlements,
                                         by="ops-olga", at=AT)


async def take(new_uow, event) -> None:
    async with new_uow() as uow:
        await orders.take_activation(uow, Envelope(event, 2))
        await uow.commit()


def test_a_catalogue_entry_publishes_versions_ignores_the_same_mapping_and_retires_once():
    entry = CatalogueEntry("SUP-PREM")
    assert entry.publish(product="Premium support", entitlements=GOLD, by="ops", at=AT)
    assert not entry.publish(product="Premium support", entitlements=GOLD, by="ops", at=AT)
    entry.publish(product="Premium support", entitlements=ONSITE, by="ops", at=AT)
    entry.retire(by="ops", at=AT)
    entry.retire(by="ops", at=AT)
    assert [(type(e).__name__, e.version) for e in entry.pending_events] == [
        ("CatalogueEntryPublished", 1), ("CatalogueEntryPublished", 2), ("CatalogueEntryRetired", 3)]
    assert entry.publish(product="Premium support", entitlements=ONSITE, by="ops", at=AT)  # back on sale
    assert not entry.retired


@pytest.mark.parametrize("sku, entitlements, rule", [
    ("SUP PREM", GOLD, rules.CATALOGUE_SKU_INVALID),
    ("SUP-PREM", [], rules.CATALOGUE_ENTITLEMENTS_EMPTY),
    ("SUP-PREM", GOLD + GOLD, rules.CATALOGUE_ENTITLEMENT_DUPLICATE),
])
def test_a_catalogue_entry_refuses_what_cannot_be_a_mapping(sku, entitlements, rule):
    with pytest.raises(DomainError) as refused:
        CatalogueEntry(sku).publish(product="x", entitlements=entitlements, by="ops", at=AT)
    assert refused.value.rule == rule


def test_retiring_a_sku_never_published_is_refused():
    with pytest.raises(DomainError) as refused:
        CatalogueEntry("NEW").retire(by="ops", at=AT)
    assert refused.value.rule == rules.CATALOGUE_RETIRE_ONLY_PUBLISHED


async def test_an_activated_contract_becomes_an_order_and_a_service_contract_with_matching_lines_and_entitlements(new_uow, store):
    await publish(new_uow, "SUP-PREM")
    await publish(new_uow, "ONSITE", ONSITE)
    v2 = activated_v2()
    await take(new_uow, v2)
    await take(new_uow, v2)  # redelivered: one order, one service contract

    order = await orders.get_order(new_uow(), order_id_of(v2.contract_id))
    premium, onsite = order.created.lines
    assert (order.created.account, order.created.currency) == ("ACC-77", "EUR")
    assert premium.order_line_id in order.fulfilled and order.completed is None
    # 1.5 units cannot be a service contract line: fallout, visible, the other line not held up
    assert (order.fallout[onsite.order_line_id].rule, order.fallout[onsite.order_line_id].attempt) == (
        rules.ORDER_QUANTITY_NOT_WHOLE, 1)

    service = await contracts.get_service_contract(new_uow(), v2.contract_id)
    assert (service.number, service.account, service.start_date, service.end_date, service.time_zone) == (
        v2.number, "ACC-77", START, END, "Europe/Berlin")
    [line] = service.lines.values()
    assert (line.line_id, line.product, line.quantity, line.unit_price, line.start_date, line.end_date) == (
        premium.contract_line_id, "Premium support", 2, Decimal("1200.00"), dt.date(2027, 1, 1), dt.date(2029, 12, 31))
    [ent] = service.entitlements.values()
    assert (ent.line_id, ent.name, ent.support_level, ent.sla, ent.features, ent.usage_limit, ent.usage_unit) == (
        line.line_id, "premium-support", "gold", "4h response", ["hotline", "remote-diagnosis"], 20, "incidents")
    assert order.fulfilled[premium.order_line_id].entitlement_ids == [ent.entitlement_id]
    assert sum(type(r.event).__name__ == "OrderCreated" for r in store.events) == 1

    async with new_uow() as uow:
        [row] = await uow.views.orders(fallout=True, after=None, limit=10)
        assert (row.order_id, row.fallout_lines, row.state) == (order.order_id, 1, "fallout")
        assert await uow.views.orders(fallout=False, after=None, limit=10) == []

    again = await orders.retry_line(new_uow(), order.order_id, onsite.order_line_id, Clock())
    assert again.fallout[onsite.order_line_id].attempt == 2  # still 1.5 units: another fallout, counted


async def test_a_line_whose_sku_is_missing_falls_out_and_a_retry_after_publishing_fulfils_the_order(new_uow):
    v2 = activated_v2()
    v2 = v2.model_copy(update={"lines": [v2.lines[0]]})
    await take(new_uow, v2)
    order = await orders.get_order(new_uow(), order_id_of(v2.contract_id))
    [line] = order.created.lines
    assert order.fallout[line.order_line_id].rule == rules.ORDER_SKU_NOT_IN_CATALOGUE
    service = await contracts.get_service_contract(new_uow(), v2.contract_id)
    assert service.lines == {}  # drafted with the contract's header, the line added once it fulfils

    await publish(new_uow, "SUP-PREM")
    done = await orders.retry_line(new_uow(), order.order_id, line.order_line_id, Clock())
    assert line.order_line_id in done.fulfilled and done.completed is not None and done.fallout == {}
    assert list((await contracts.get_service_contract(new_uow(), v2.contract_id)).lines) == [line.contract_line_id]
    with pytest.raises(DomainError) as refused:
        await orders.retry_line(new_uow(), order.order_id, line.order_line_id, Clock())
    assert refused.value.rule == rules.ORDER_LINE_NOT_IN_FALLOUT
    with pytest.raises(DomainError) as unknown:
        await orders.retry_line(new_uow(), order.order_id, uuid.uuid4(), Clock())
    assert unknown.value.rule == "order_line.not_found"


async def test_a_retired_sku_falls_out(new_uow):
    await publish(new_uow, "SUP-PREM")
    await catalogue.retire_entry(new_uow(), "SUP-PREM", by="ops-olga", at=AT)
    v2 = activated_v2()
    await take(new_uow, v2.model_copy(update={"lines": [v2.lines[0]]}))
    order = await orders.get_order(new_uow(), order_id_of(v2.contract_id))
    assert [f.rule for f in order.fallout.values()] == [rules.ORDER_SKU_RETIRED]


async def test_publishing_the_missing_sku_retries_the_lines_that_fell_out_on_it(new_uow, store):
    v2 = activated_v2()
    await take(new_uow, v2)  # neither SKU in the catalogue: both lines fall out
    order_id = order_id_of(v2.contract_id)
    entry, _ = await publish(new_uow, "SUP-PREM")
    async with new_uow() as uow:
        await orders.retry_fallout_of(uow, Envelope(entry.published, 1))
        await uow.commit()
    order = await orders.get_order(new_uow(), order_id)
    premium, onsite = order.created.lines
    assert premium.order_line_id in order.fulfilled
    assert order.fallout[onsite.order_line_id].attempt == 1  # not its SKU: not tried again
    async with new_uow() as uow:
        assert await uow.views.orders_with_fallout_on("SUP-PREM") == []
        assert await uow.views.orders_with_fallout_on("ONSITE") == [order_id]
