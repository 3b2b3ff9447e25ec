"""The in-memory unit of work (shared/backbone/memory.py, with order sync's MemoryIndexes) and the
real one on PostgreSQL (with SqlIndexes) pass the same tests, so the unit tests of use cases that
run on the first can trust it to behave as the second. `-m "not integration"` runs the memory half
alone, in a fraction of a second."""

import datetime as dt
import uuid
from decimal import Decimal
from contextlib import nullcontext
from pathlib import Path

import pytest

from shared.backbone.errors import ConcurrencyConflict, NotFound, RuleKind
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.backbone.unit_of_work import UnitOfWork
from services.order_sync.adapters.indexes import SqlIndexes
from services.order_sync.adapters.memory_indexes import MemoryIndexes
from services.order_sync.application.indexing import indexes, save_indexes
from services.order_sync.domain.catalogue import CatalogueEntry
from services.order_sync.domain.install_base import SoldProduct
from services.order_sync.domain.order import Fallout, Order
from services.order_sync.domain.quote import Quote, QuoteState
from services.order_sync.domain.service_contract import ServiceContract
from tests.activation_story import AT as ACTIVATED_AT, GOLD
from tests.conftest import migrated_schema
from tests.events_factory import Note
from tests.unit.test_quote import NOW as QUOTED_AT, entry as quote_entry
from tests.unit.test_orders import activated_v2
from tests.unit.test_service_contract_life_cycle import END, START, entitlement, line

ORDER_SYNC_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "order_sync" / "adapters" / "migrations"


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def stack_if_real(request):
    """Asked for here, outside the event loop: starting the stack runs a loop of its own."""
    return request.getfixturevalue("stack") if request.param == "postgres" else None


@pytest.fixture
async def new_uow(stack_if_real):
    """Makes units of work on one store: a MemoryEventStore, or a fresh order_sync schema."""
    if stack_if_real is None:
        store = MemoryEventStore()
        yield lambda: MemoryUnitOfWork(store, views=MemoryIndexes)
    else:
        async with migrated_schema(stack_if_real, ORDER_SYNC_MIGRATIONS, prefix="uow_contract") as engine:
            yield lambda: UnitOfWork(engine, views=SqlIndexes)


async def stored_note(new_uow, *titles: str) -> str:
    note = Note(str(uuid.uuid4()))
    for title in titles:
        note.retitle(title)
    async with new_uow() as uow:
        uow.add(note)
        await uow.commit()
    return note.id


async def titles(new_uow, note_id: str) -> list[str] | None:
    async with new_uow() as uow:
        note = await uow.get(Note, note_id)
        return note and note.titles


def covering(product_id: uuid.UUID, account: str = "ACME", number: str = "SC-1", **entitlement_fields) -> ServiceContract:
    """A Draft contract with one line covering the product and an entitlement on that line."""
    the_line = line(product_id=product_id)
    return ServiceContract.draft(
        uuid.uuid4(), number=number, account=account, start_date=START, end_date=END,
        lines=[the_line], entitlements=[entitlement(line_id=the_line.line_id, **entitlement_fields)])


async def test_what_is_added_is_read_back_rebuilt_from_its_events(new_uow):
    note_id = await stored_note(new_uow, "a", "b")
    async with new_uow() as uow:
        note = await uow.get(Note, note_id)
        assert (note.titles, note.version, uow.changed()) == (["a", "b"], 2, [])
        assert await uow.get(Note, note_id) is note
        note.retitle("c")
        assert uow.changed() == [note]
        await uow.commit()
    assert await titles(new_uow, note_id) == ["a", "b", "c"]
    async with new_uow() as uow:
        assert await uow.get(Note, str(uuid.uuid4())) is None


async def test_require_refuses_a_missing_aggregate_and_a_version_the_client_did_not_read(new_uow):
    note_id = await stored_note(new_uow, "a")
    async with new_uow() as uow:
        with pytest.raises(NotFound) as missing:
            await uow.require(Note, str(uuid.uuid4()), "note")
        assert (missing.value.rule, missing.value.kind) == ("note.not_found", RuleKind.NOT_FOUND)
        with pytest.raises(ConcurrencyConflict) as stale:
            await uow.require(Note, note_id, "note", expected_version=2)
        assert stale.value.extra == {"stream_id": note_id, "expected_version": 2, "actual_version": 1}
        assert (await uow.require(Note, note_id, "note", expected_version=1)).titles == ["a"]


async def test_the_second_of_two_writers_conflicts_and_nothing_of_it_is_kept(new_uow):
    note_id, product_id = await stored_note(new_uow, "first"), uuid.uuid4()
    first, second = new_uow(), new_uow()
    async with first, second:
        (await first.get(Note, note_id)).retitle("mine")
        (await second.get(Note, note_id)).retitle("theirs")
        contract = covering(product_id)
        second.add(contract)
        await save_indexes(second)
        await first.commit()
        with pytest.raises(ConcurrencyConflict) as conflict:
            await second.commit()
    assert conflict.value.extra == {"stream_id": note_id, "expected_version": 1, "actual_version": 2}
    assert await titles(new_uow, note_id) == ["first", "mine"]
    async with new_uow() as uow:
        assert await uow.get(ServiceContract, contract.id) is None
        assert await indexes(uow).contracts_covering(product_id) == []


@pytest.mark.parametrize("grouped", [False, True], ids=["alone", "grouped"])
async def test_a_guarded_aggregate_that_moved_before_commit_fails_the_commit(new_uow, grouped):
    guarded_id, other_id = await stored_note(new_uow, "g1"), await stored_note(new_uow, "o1")
    mine, theirs = new_uow(), new_uow()
    async with mine, theirs:
        mine.guard(await mine.get(Note, guarded_id))
        (await mine.get(Note, other_id)).retitle("o2")
        (await theirs.get(Note, guarded_id)).retitle("g2")
        await theirs.commit(grouped=grouped)
        with pytest.raises(ConcurrencyConflict) as conflict:
            await mine.commit(grouped=grouped)
    assert conflict.value.extra == {"stream_id": guarded_id, "expected_version": 1, "actual_version": 2}
    assert await titles(new_uow, other_id) == ["o1"]
    async with new_uow() as uow:  # unmoved, a guard passes
        uow.guard(await uow.get(Note, guarded_id))
        (await uow.get(Note, other_id)).retitle("o2")
        await uow.commit()
    assert await titles(new_uow, other_id) == ["o1", "o2"]


@pytest.mark.parametrize("write", ["stage", "flush"])
async def test_a_guard_counts_what_its_own_transaction_wrote_before(new_uow, write):
    note_id = await stored_note(new_uow, "a")
    async with new_uow() as uow:  # one message changes it, the next one relies on it
        (await uow.get(Note, note_id)).retitle("b")
        if write == "stage":
            uow.stage()
        else:
            await uow.flush()
        uow.guard(await uow.get(Note, note_id))
        await uow.commit()
    assert await titles(new_uow, note_id) == ["a", "b"]


@pytest.mark.parametrize("ending", ["no commit", "an exception"])
async def test_a_unit_of_work_that_does_not_commit_keeps_nothing(new_uow, ending):
    note_id, product_id = await stored_note(new_uow, "a"), uuid.uuid4()
    contract = covering(product_id)
    with pytest.raises(RuntimeError) if ending == "an exception" else nullcontext():
        async with new_uow() as uow:
            (await uow.get(Note, note_id)).retitle("b")
            uow.add(contract)
            await save_indexes(uow)
            await uow.flush()
            if ending == "an exception":
                raise RuntimeError("the use case failed after its writes")
    assert await titles(new_uow, note_id) == ["a"]
    async with new_uow() as uow:
        assert await uow.get(ServiceContract, contract.id) is None
        assert await indexes(uow).contracts_covering(product_id) == []


async def test_the_indexes_follow_what_is_saved_in_the_transaction_and_keep_it_on_commit(new_uow):
    product, other = SoldProduct.record_new(uuid.uuid4(), account="ACME", product="Robot arm", quantity=1), uuid.uuid4()
    first, second = covering(product.product_id, number="SC-2"), covering(product.product_id, number="SC-1")
    async with new_uow() as uow:
        for aggregate in (product, first, second):
            uow.add(aggregate)
        await save_indexes(uow)
        assert await indexes(uow).contracts_covering(product.product_id) == sorted([first.contract_id, second.contract_id])
        await uow.commit()
    async with new_uow() as uow:
        assert await indexes(uow).suspended_among({product.product_id, other}) == set()
        (await uow.get(SoldProduct, product.id)).suspend(START)
        await save_indexes(uow)
        assert await indexes(uow).suspended_among({product.product_id, other}) == {product.product_id}
        await uow.commit()
    async with new_uow() as uow:
        assert await indexes(uow).contracts_covering(product.product_id) == sorted([first.contract_id, second.contract_id])
        assert await indexes(uow).contracts_covering(other) == []
        assert await indexes(uow).suspended_among({product.product_id, other}) == {product.product_id}
        assert await indexes(uow).suspended_among(set()) == set()


async def test_a_contract_saved_again_is_read_as_last_saved_in_its_transaction_and_after_commit(new_uow):
    """The views keep a contract's rows back until commit (adapters/indexes.py): reads in the
    transaction see the last save, and the rows written are those, not an earlier save's."""
    before, after, unmoved = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    moved, stays = covering(before, number="SC-1"), covering(unmoved, number="SC-2")
    the_line = next(iter(moved.lines))

    async def covered_by(uow) -> dict:
        return {p: await indexes(uow).contracts_covering(p) for p in (before, after, unmoved)}

    async def granted(uow) -> list:
        rows = await indexes(uow).entitlements_for(name="onsite-repair", on=START, account=None, covering=None)
        return [(r.contract_number, r.covers) for r in rows]

    async with new_uow() as uow:
        uow.add(moved)
        await save_indexes(uow)
        assert await covered_by(uow) == {before: [moved.contract_id], after: [], unmoved: []}
        moved.change_line_coverage(the_line, after, None, START, set())
        uow.add(stays)
        await save_indexes(uow)
        assert await covered_by(uow) == {before: [], after: [moved.contract_id], unmoved: [stays.contract_id]}
        assert await granted(uow) == [("SC-1", [after]), ("SC-2", [unmoved])]
        await uow.commit()
    async with new_uow() as uow:
        assert await covered_by(uow) == {before: [], after: [moved.contract_id], unmoved: [stays.contract_id]}
        assert await granted(uow) == [("SC-1", [after]), ("SC-2", [unmoved])]
        (await uow.get(ServiceContract, moved.id)).change_line_coverage(the_line, before, None, START, set())
        await save_indexes(uow)
        await uow.commit()
    async with new_uow() as uow:
        assert await covered_by(uow) == {before: [moved.contract_id], after: [], unmoved: [stays.contract_id]}
        assert await granted(uow) == [("SC-1", [before]), ("SC-2", [unmoved])]


async def test_the_entitlement_index_finds_by_name_or_feature_on_a_date_for_an_account_or_a_product(new_uow):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    b = covering(mine, number="SC-B", features=["remote-diagnostics"])
    a = covering(mine, number="SC-A")
    other = covering(theirs, account="Globex", number="SC-C")
    async with new_uow() as uow:
        for contract in (b, a, other):
            uow.add(contract)
        await save_indexes(uow)
        await uow.commit()

    async def found(**query) -> list[str]:
        async with new_uow() as uow:
            return [e.contract_number for e in await indexes(uow).entitlements_for(**{"account": None, "covering": None, **query})]

    assert await found(name="onsite-repair", on=START) == ["SC-A", "SC-B", "SC-C"]
    assert await found(name="remote-diagnostics", on=END) == ["SC-B"]
    assert await found(name="onsite-repair", on=END + dt.timedelta(days=1)) == []
    assert await found(name="onsite-repair", on=START, account="Globex") == ["SC-C"]
    assert await found(name="onsite-repair", on=START, covering=mine) == ["SC-A", "SC-B"]
    async with new_uow() as uow:
        [row] = await indexes(uow).entitlements_for(name="onsite-repair", on=START, account="Globex", covering=None)
    ent = next(iter(other.entitlements.values()))
    assert (row.entitlement_id, row.contract_id, row.line_id, row.state, row.covers, row.support_level, row.time_zone) == (
        ent.entitlement_id, other.contract_id, ent.line_id, "draft", [theirs], "gold", "UTC")


async def test_the_quote_index_filters_and_pages_by_quote_id_and_follows_each_change(new_uow):
    ids = sorted(uuid.uuid4() for _ in range(4))
    async with new_uow() as uow:
        for i, quote_id in enumerate(ids):
            uow.add(Quote.draft(quote_id, quote_entry(opportunity_id=f"OPP-{i % 2}"), QUOTED_AT))
        await save_indexes(uow)
        await uow.commit()
    async with new_uow() as uow:
        (await uow.get(Quote, str(ids[1]))).approve(QUOTED_AT, "sales-ann")
        await save_indexes(uow)
        await uow.commit()

    async def found(**query) -> list:
        async with new_uow() as uow:
            where = {"state": None, "account_id": None, "opportunity_id": None, "after": None, "limit": 10, **query}
            return [q.quote_id for q in await indexes(uow).quotes(**where)]

    assert await found() == ids and await found(limit=2) == ids[:2] and await found(after=ids[1]) == ids[2:]
    assert await found(opportunity_id="OPP-1") == [ids[1], ids[3]]
    assert await found(state=QuoteState.CUSTOMER_APPROVED) == [ids[1]]
    assert await found(state=QuoteState.DRAFT, opportunity_id="OPP-1") == [ids[3]]
    assert await found(account_id="ACC-77") == ids and await found(account_id="ACC-1") == []
    async with new_uow() as uow:
        [row] = await indexes(uow).quotes(state=QuoteState.CUSTOMER_APPROVED, account_id=None, opportunity_id=None,
                                          after=None, limit=10)
    assert (row.number, row.account_name, row.currency, row.deal_size, row.version, row.state) == (
        "Q-1", "ACME Robotics", "EUR", Decimal("2160.00"), 2, "customer_approved")


async def test_the_catalogue_and_order_indexes_filter_and_page_and_follow_each_change(new_uow):
    async with new_uow() as uow:
        for sku in ("A-1", "B-2", "C-3"):
            entry = CatalogueEntry(sku)
            entry.publish(product=f"Product {sku}", entitlements=GOLD, by="ops", at=ACTIVATED_AT)
            uow.add(entry)
        orders = [Order.create(activated_v2(), ACTIVATED_AT) for _ in range(3)]
        for order in orders:
            uow.add(order)
        await save_indexes(uow)
        await uow.commit()
    ids = sorted(o.order_id for o in orders)
    async with new_uow() as uow:
        (await uow.get(CatalogueEntry, "B-2")).retire(by="ops", at=ACTIVATED_AT)
        fallen = await uow.get(Order, str(ids[1]))
        fallen.fall_out(fallen.created.lines[0], Fallout("order.sku_retired", "retired"), ACTIVATED_AT)
        await save_indexes(uow)
        await uow.commit()

    async with new_uow() as uow:
        catalogue = indexes(uow).catalogue
        assert [r.sku for r in await catalogue(retired=None, after=None, limit=10)] == ["A-1", "B-2", "C-3"]
        assert [r.sku for r in await catalogue(retired=None, after="A-1", limit=1)] == ["B-2"]
        [retired] = await catalogue(retired=True, after=None, limit=10)
        assert (retired.sku, retired.version, retired.product, retired.retired) == ("B-2", 2, "Product B-2", True)
        assert [r.order_id for r in await indexes(uow).orders(fallout=None, after=ids[0], limit=10)] == ids[1:]
        [row] = await indexes(uow).orders(fallout=True, after=None, limit=10)
        assert (row.order_id, row.state, row.fallout_lines) == (ids[1], "fallout", 1)
        assert [r.order_id for r in await indexes(uow).orders(fallout=False, after=None, limit=10)] == [ids[0], ids[2]]


async def test_a_stream_of_another_type_is_not_the_aggregate_asked_for(new_uow):
    from shared.backbone.errors import AlreadyExists
    from tests.events_factory import Memo

    note_id = await stored_note(new_uow, "a")
    async with new_uow() as uow:
        assert await uow.get(Memo, note_id) is None
        with pytest.raises(NotFound):
            await uow.require(Memo, note_id, "memo")
        with pytest.raises(AlreadyExists):
            uow.add(Memo(note_id))
    assert await titles(new_uow, note_id) == ["a"]
