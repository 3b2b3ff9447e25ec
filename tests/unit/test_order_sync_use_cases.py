"""Order sync's use cases and event handlers, on the in-memory unit of work and indexes (the
contract test tests/integration/test_unit_of_work_contract.py holds them to the real ones)."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import ConcurrencyConflict, DomainError, RuleKind
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.activation import ContractActivatedV2
from shared.events.contracts import Party
from shared.events.envelope import Envelope
from shared.events.lifecycle import ServiceContractDateReached
from shared.events.orders import ServiceState
from services.order_sync.adapters.memory_indexes import MemoryIndexes
from services.order_sync.application import install_base as products
from services.order_sync.application import service_contracts as contracts
from services.order_sync.application.consumed_events import reach_dates
from services.order_sync.application.orders import take_activation
from services.order_sync.application.entitlement_checks import check_entitlement
from services.order_sync.domain import rules
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct
from services.order_sync.domain.service_contract import ServiceContract
from tests.unit.test_service_contract_life_cycle import BEFORE, DURING, END, START, entitlement, line

DRAFT, ACTIVE, SUSPENDED = ServiceState.DRAFT, ServiceState.ACTIVE, ServiceState.SUSPENDED
EXPIRED, CANCELED = ServiceState.EXPIRED, ServiceState.CANCELED


class FixedClock:
    def __init__(self, day: dt.date):
        self.set(day)

    def set(self, day: dt.date) -> None:
        self.instant = dt.datetime.combine(day, dt.time(12), dt.UTC)

    def now(self) -> dt.datetime:
        return self.instant


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryIndexes)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(BEFORE)


async def sold(new_uow, account: str = "ACME") -> uuid.UUID:
    product, _ = await products.record_product(
        new_uow(), SoldProduct.record_new(uuid.uuid4(), account=account, product="Robot arm", quantity=1))
    return product.product_id


async def installed(new_uow, account: str = "ACME") -> uuid.UUID:
    item, _ = await products.record_product(
        new_uow(), InstallBaseItem.record_new(uuid.uuid4(), account=account, name="Arm 7", site="Plant 1"))
    return item.product_id


async def draft(new_uow, *, lines=(), entitlements=(), start=START, end=END, account="ACME", contract_id=None) -> ServiceContract:
    contract, _ = await contracts.draft_service_contract(
        new_uow(), contract_id or uuid.uuid4(), number="SC-1", account=account, start_date=start, end_date=end,
        time_zone="UTC", lines=list(lines), entitlements=list(entitlements))
    return contract


def date_reached(contract_id: uuid.UUID, day: dt.date) -> Envelope:
    return Envelope(ServiceContractDateReached(
        contract_id=contract_id, date=day, time_zone="UTC",
        reached_at=dt.datetime.combine(day, dt.time(), dt.UTC), due=[]), stream_version=1)


async def handle(new_uow, handler, envelope: Envelope) -> None:
    """As the consumer runs a handler: in its unit of work, then commit."""
    async with new_uow() as uow:
        await handler(uow, envelope)
        await uow.commit()


async def contract_of(new_uow, contract_id: uuid.UUID) -> ServiceContract:
    return await contracts.get_service_contract(new_uow(), contract_id)


async def states(new_uow, contract_id: uuid.UUID) -> list[ServiceState]:
    """The contract's lines' then entitlements' states, in the order they were drafted."""
    return [item.state for item in (await contract_of(new_uow, contract_id)).items()]


def refused(caught: pytest.ExceptionInfo, rule: str, kind: RuleKind) -> None:
    assert (caught.value.rule, caught.value.kind) == (rule, kind), caught.value


async def test_a_suspended_product_suspends_what_covers_it_in_every_contract_and_its_resumption_what_the_dates_say(new_uow, clock):
    p, q = await sold(new_uow), await sold(new_uow)
    short, full, other = line(end=dt.date(2027, 6, 30), product_id=p), line(product_id=p), line(product_id=q)
    a = await draft(new_uow, lines=[short, full, other], entitlements=[
        entitlement(end=dt.date(2027, 6, 30), line_id=short.line_id), entitlement()])
    later = dt.date(2027, 9, 1)
    b = await draft(new_uow, start=later, lines=[line(start=later, product_id=p)], entitlements=[entitlement(start=later, product_id=p)])
    c = await draft(new_uow, lines=[line(product_id=p)])
    await contracts.change_contract(new_uow(), clock, c.contract_id, None, lambda contract, today: contract.cancel(today))
    await handle(new_uow, reach_dates, date_reached(a.contract_id, START))
    clock.set(DURING)

    assert (await products.suspend_product(new_uow(), clock, SoldProduct, p, "unpaid")).suspended
    assert await states(new_uow, a.contract_id) == [SUSPENDED, SUSPENDED, ACTIVE, SUSPENDED, ACTIVE]
    assert await states(new_uow, b.contract_id) == [SUSPENDED, SUSPENDED]
    assert await states(new_uow, c.contract_id) == [CANCELED]
    with pytest.raises(DomainError) as twice:
        await products.suspend_product(new_uow(), clock, SoldProduct, p, "again")
    refused(twice, rules.PRODUCT_ALREADY_SUSPENDED, RuleKind.CONFLICT)

    clock.set(dt.date(2027, 7, 15))  # the short line and its entitlement ended while suspended
    assert not (await products.resume_product(new_uow(), clock, SoldProduct, p)).suspended
    assert await states(new_uow, a.contract_id) == [EXPIRED, ACTIVE, ACTIVE, EXPIRED, ACTIVE]
    assert await states(new_uow, b.contract_id) == [DRAFT, DRAFT]
    assert await states(new_uow, c.contract_id) == [CANCELED]


async def test_an_item_stays_suspended_while_another_product_it_covers_is(new_uow, clock):
    p, item = await sold(new_uow), await installed(new_uow)
    c = await draft(new_uow, lines=[line(product_id=p, item_id=item), line(product_id=p)])
    await products.suspend_product(new_uow(), clock, SoldProduct, p, "")
    await products.suspend_product(new_uow(), clock, InstallBaseItem, item, "")
    await products.resume_product(new_uow(), clock, SoldProduct, p)
    assert await states(new_uow, c.contract_id) == [SUSPENDED, DRAFT]
    await products.resume_product(new_uow(), clock, InstallBaseItem, item)
    assert await states(new_uow, c.contract_id) == [DRAFT, DRAFT]


async def test_a_line_covering_a_suspended_product_starts_suspended(new_uow, clock):
    p = await sold(new_uow)
    await products.suspend_product(new_uow(), clock, SoldProduct, p, "")
    c = await draft(new_uow, lines=[line(product_id=p)])
    c = await contracts.add_line(new_uow(), clock, c.contract_id, line(product_id=p), expected_version=1)
    assert [item.state for item in c.items()] == [SUSPENDED, SUSPENDED]


async def test_a_contract_covers_only_products_of_its_own_account(new_uow, clock):
    theirs = await sold(new_uow, account="Globex")
    with pytest.raises(DomainError) as drafted:
        await draft(new_uow, lines=[line(product_id=theirs)])
    refused(drafted, rules.COVERAGE_ACCOUNT_MISMATCH, RuleKind.INVALID)
    c = await draft(new_uow)
    with pytest.raises(DomainError) as added:
        await contracts.add_entitlement(new_uow(), clock, c.contract_id, entitlement(product_id=theirs), None)
    refused(added, rules.COVERAGE_ACCOUNT_MISMATCH, RuleKind.INVALID)
    assert (await contract_of(new_uow, c.contract_id)).version == 1


class SuspendedMeanwhile(MemoryUnitOfWork):
    """Another transaction suspends the product after this one read it, right before it commits."""

    def __init__(self, store, clock, product_id):
        super().__init__(store, views=MemoryIndexes)
        self._clock, self._product_id = clock, product_id

    async def commit(self) -> None:
        other = MemoryUnitOfWork(self.store, views=MemoryIndexes)
        await products.suspend_product(other, self._clock, SoldProduct, self._product_id, "")
        await super().commit()


async def test_a_line_is_not_added_against_a_product_that_changed_before_the_commit(new_uow, store, clock):
    p = await sold(new_uow)
    c = await draft(new_uow)
    with pytest.raises(ConcurrencyConflict):
        await contracts.add_line(SuspendedMeanwhile(store, clock, p), clock, c.contract_id, line(product_id=p), None)
    assert (await contract_of(new_uow, c.contract_id)).lines == {}


async def test_a_draft_is_idempotent_by_id_and_other_terms_for_that_id_are_refused(new_uow):
    contract_id, terms = uuid.uuid4(), dict(number="SC-1", account="ACME", start_date=START, end_date=END,
                                            time_zone="UTC", lines=[line()], entitlements=[])
    first, created = await contracts.draft_service_contract(new_uow(), contract_id, **terms)
    again, created_again = await contracts.draft_service_contract(new_uow(), contract_id, **terms)
    assert (created, created_again, again.version, again.lines.keys()) == (True, False, 1, first.lines.keys())
    with pytest.raises(DomainError) as other:
        await contracts.draft_service_contract(new_uow(), contract_id, **{**terms, "end_date": dt.date(2027, 6, 30)})
    refused(other, "service_contract.already_exists", RuleKind.CONFLICT)


async def test_an_activated_legal_contract_without_lines_is_recorded_as_a_service_contract_once(new_uow, store):
    activated = Envelope(ContractActivatedV2(
        contract_id=uuid.uuid4(), number="CNT-9", title="Maintenance", contract_model="service_contract",
        parties=[Party(role="vendor", name="Us"), Party(role="customer", name="ACME")],
        start_date=START, end_date=END, time_zone="Europe/Berlin"), stream_version=2)
    await handle(new_uow, take_activation, activated)
    await handle(new_uow, take_activation, activated)
    contract = await contract_of(new_uow, activated.event.contract_id)
    assert (contract.number, contract.account, contract.time_zone, contract.state, contract.version) == (
        "CNT-9", "ACME", "Europe/Berlin", DRAFT, 1)
    assert len(store.events) == 1


async def test_a_date_reached_brings_the_contract_to_what_its_dates_say(new_uow, store):
    first = line(end=dt.date(2027, 3, 31))
    c = await draft(new_uow, lines=[first, line()], entitlements=[entitlement(line_id=first.line_id, end=dt.date(2027, 3, 31))])
    await handle(new_uow, reach_dates, date_reached(c.contract_id, START))
    assert (await contract_of(new_uow, c.contract_id)).state == ACTIVE
    assert await states(new_uow, c.contract_id) == [ACTIVE, ACTIVE, ACTIVE]
    await handle(new_uow, reach_dates, date_reached(c.contract_id, dt.date(2027, 4, 1)))
    assert await states(new_uow, c.contract_id) == [EXPIRED, ACTIVE, EXPIRED]
    events = len(store.events)
    await handle(new_uow, reach_dates, date_reached(c.contract_id, dt.date(2027, 4, 1)))
    await handle(new_uow, reach_dates, date_reached(uuid.uuid4(), START))  # not (yet) known here: nothing to do
    assert len(store.events) == events


async def test_the_entitlement_check_grants_by_active_expired_or_future_draft_entitlements_never_suspended_ones(new_uow, clock):
    p, q = await sold(new_uow), await sold(new_uow)
    active = await draft(new_uow, entitlements=[entitlement(product_id=p), entitlement(product_id=q)])
    await handle(new_uow, reach_dates, date_reached(active.contract_id, START))
    clock.set(DURING)
    await products.suspend_product(new_uow(), clock, SoldProduct, q, "")

    async def check(**subject):
        return await check_entitlement(new_uow(), clock, name="onsite-repair", **subject)

    granted = await check(on=DURING, covering=p)
    assert granted.entitled and [(m.contract_id, m.state) for m in granted.matches] == [(active.contract_id, "active")]
    assert not (await check(on=DURING, covering=q)).entitled
    assert not (await check(on=DURING, account="Globex")).entitled
    assert not (await check(on=END + dt.timedelta(days=1), covering=p)).entitled

    later = dt.date(2028, 1, 1)
    future = await draft(new_uow, start=later, end=dt.date(2028, 12, 31), account="Initech",
                         entitlements=[entitlement(start=later, end=dt.date(2028, 12, 31))])
    assert (await check(on=dt.date(2028, 2, 1), account="Initech")).entitled
    clock.set(dt.date(2028, 2, 1))  # its start date passed, but order sync has not reached it yet
    assert not (await check(on=dt.date(2028, 2, 1), account="Initech")).entitled
    await handle(new_uow, reach_dates, date_reached(future.contract_id, dt.date(2028, 2, 1)))
    assert (await check(on=dt.date(2028, 2, 1), account="Initech")).entitled
    clock.set(dt.date(2029, 1, 15))
    await handle(new_uow, reach_dates, date_reached(future.contract_id, dt.date(2029, 1, 15)))
    assert (await check(on=dt.date(2028, 2, 1), account="Initech")).matches[0].state == "expired"
