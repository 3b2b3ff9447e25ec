"""Links, coverage proofs, the uncovered list and lapses on the in-memory unit of work. Contracts are
made with the aggregate's classmethods and their state events recorded directly (the state
transitions' use cases are the inventory part's)."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import DomainError
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.assets import AssetDetails, CoverageLapsed, CoverageRestored
from shared.events.coverage import (
    OperationalContractActivated, OperationalContractCanceled, OperationalContractExpired, OperationalTerms,
    ServiceLevel, VendorContractTerms,
)
from shared.events.envelope import Envelope
from shared.events.link_dates import AssetLinkDateReached, link_id
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application.link_dates import reach_link_date
from services.lifecycle_scheduler.domain.link_dates import LinkDates, first_day_of
from services.asset_coverage.application import linking, proofs
from services.asset_coverage.application.following import commit
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract

START, END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
TODAY = dt.date(2027, 3, 1)


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


def _terms(number: str, start=START, end=END) -> VendorContractTerms:
    return VendorContractTerms(number=number, vendor="KUKA", vendor_contract_number=number, name=f"Maintenance {number}",
                               contract_model="maintenance", start_date=start, end_date=end)


async def _register(new_uow, *assets: tuple[str, str]) -> None:
    async with new_uow() as uow:
        for asset_id, criticality in assets:
            uow.add(Asset.register(asset_id, AssetDetails(kind="robot", name=f"Robot {asset_id}", site="Plant 4",
                                                          criticality=criticality)))
        await commit(uow, TODAY)


async def _vendor_contract(new_uow, number: str, *, active=True, start=START, end=END,
                           predecessor_id=None) -> uuid.UUID:
    async with new_uow() as uow:
        contract = OperationalContract.register_vendor_contract(
            _terms(number, start, end), OperationalTerms(sla=ServiceLevel(response_hours=4)), predecessor_id)
        if active:
            contract.record(OperationalContractActivated(contract_id=uuid.UUID(contract.id), on=start))
        uow.add(contract)
        await linking.carry_links(uow, contract)
        await commit(uow, TODAY)
        return uuid.UUID(contract.id)


async def _record(new_uow, contract_id: uuid.UUID, event, today=TODAY) -> None:
    async with new_uow() as uow:
        contract = await uow.get(OperationalContract, str(contract_id))
        contract.record(event)
        await commit(uow, today)


def _asset_events(store, asset_id: str) -> list:
    return [r.event for r in store.events if r.stream_id == asset_id and isinstance(r.event, (CoverageLapsed, CoverageRestored))]


async def _proof(new_uow, asset_id: str, on: dt.date, known_at=None) -> proofs.Proof:
    [proof] = await proofs.coverage_of(new_uow(), [asset_id], on, known_at)
    return proof


async def test_a_link_covers_within_its_own_dates_and_says_why_not_outside(new_uow):
    await _register(new_uow, ("R-1", "critical"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    await linking.link_asset(new_uow(), TODAY, contract_id, "R-1", dt.date(2027, 2, 1), dt.date(2027, 6, 30))

    reasons = {on: (await _proof(new_uow, "R-1", on)).links[0][1]
               for on in (dt.date(2026, 12, 31), dt.date(2027, 1, 15), dt.date(2027, 3, 1), dt.date(2027, 7, 1),
                          dt.date(2028, 1, 1))}
    assert reasons == {dt.date(2026, 12, 31): "contract_not_started", dt.date(2027, 1, 15): "link_not_started",
                       dt.date(2027, 3, 1): None, dt.date(2027, 7, 1): "link_ended", dt.date(2028, 1, 1): "contract_ended"}
    covering = (await _proof(new_uow, "R-1", TODAY)).links[0][0]
    assert covering.contract.sla == {"response_hours": "4", "resolution_hours": None, "service_hours": None}
    assert (await _proof(new_uow, "R-1", TODAY)).covered_until == dt.date(2027, 6, 30)


async def test_a_draft_and_a_canceled_contract_do_not_cover(new_uow):
    await _register(new_uow, ("R-1", "high"))
    draft = await _vendor_contract(new_uow, "V-1", active=False)
    canceled = await _vendor_contract(new_uow, "V-2")
    await linking.link_asset(new_uow(), TODAY, draft, "R-1")
    await linking.link_asset(new_uow(), TODAY, canceled, "R-1")
    await _record(new_uow, canceled, OperationalContractCanceled(contract_id=canceled, effective_on=dt.date(2027, 2, 1)))

    proof = await _proof(new_uow, "R-1", TODAY)
    assert {linked.contract.contract_id: reason for linked, reason in proof.links} == {
        draft: "contract_draft", canceled: "contract_canceled"}
    assert (await _proof(new_uow, "R-1", dt.date(2027, 1, 31))).links[1][1] is None  # canceled from Feb 1 only


async def test_link_dates_lie_within_the_contract_and_a_terminal_contract_links_nothing(new_uow):
    await _register(new_uow, ("R-1", "high"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    with pytest.raises(DomainError) as outside:
        await linking.link_asset(new_uow(), TODAY, contract_id, "R-1", dt.date(2026, 12, 1))
    assert (outside.value.rule, outside.value.field) == (rules.LINK_WITHIN_CONTRACT, "effective_from")
    await _record(new_uow, contract_id, OperationalContractExpired(contract_id=contract_id, end_date=END))
    with pytest.raises(DomainError) as terminal:
        await linking.link_asset(new_uow(), TODAY, contract_id, "R-1")
    assert terminal.value.rule == rules.STATE_TERMINAL


async def test_only_registered_assets_are_linked_and_the_refusal_lists_the_unknown_ones(new_uow, store):
    await _register(new_uow, ("R-1", "high"), ("R-2", "high"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    before = len(store.events)
    with pytest.raises(DomainError) as unknown:
        await linking.link_assets(new_uow(), TODAY, contract_id, ["R-1", "X-9", "R-2", "X-8"])
    assert (unknown.value.rule, unknown.value.extra["unknown"]) == (rules.ASSET_UNKNOWN, ["X-9", "X-8"])
    assert len(store.events) == before  # all or nothing

    _, linked = await linking.link_assets(new_uow(), TODAY, contract_id, ["R-1", "R-2", "R-1"])
    assert linked == ["R-1", "R-2"]


async def test_bulk_link_by_a_filter_links_the_matching_assets_only(new_uow):
    await _register(new_uow, ("R-1", "high"), ("R-2", "critical"), ("R-3", "critical"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    contract, linked, matched = await linking.link_matching(new_uow(), TODAY, contract_id, kind="robot", site="Plant 4",
                                                            criticality="critical")
    assert (linked, matched, sorted(contract.links)) == (["R-2", "R-3"], 2, ["R-2", "R-3"])


async def test_lapses_and_restorations_follow_links_and_contract_ends(new_uow, store):
    await _register(new_uow, ("R-1", "critical"))
    first = await _vendor_contract(new_uow, "V-1")
    second = await _vendor_contract(new_uow, "V-2")
    await linking.link_asset(new_uow(), TODAY, first, "R-1")
    await linking.link_asset(new_uow(), TODAY, second, "R-1")
    assert _asset_events(store, "R-1") == [CoverageRestored(asset_id="R-1", on=TODAY, contract_ids=[first])]

    await linking.revise_link(new_uow(), TODAY, first, "R-1", None, dt.date(2027, 2, 1))  # backdated end
    assert len(_asset_events(store, "R-1")) == 1  # the second still covers

    await _record(new_uow, second, OperationalContractCanceled(contract_id=second, effective_on=TODAY))
    assert _asset_events(store, "R-1")[-1] == CoverageLapsed(asset_id="R-1", on=TODAY, last_contract_id=second,
                                                             reason="contract_canceled")
    await linking.revise_link(new_uow(), TODAY, first, "R-1", None, None)
    assert _asset_events(store, "R-1")[-1] == CoverageRestored(asset_id="R-1", on=TODAY, contract_ids=[first])
    await linking.unlink(new_uow(), TODAY, first, "R-1", "wrong robot")
    assert _asset_events(store, "R-1")[-1] == CoverageLapsed(asset_id="R-1", on=TODAY, last_contract_id=first,
                                                             reason="link_changed")


async def test_an_expiry_lapses_the_asset_it_covered_last(new_uow, store):
    await _register(new_uow, ("R-1", "critical"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    await linking.link_asset(new_uow(), TODAY, contract_id, "R-1")
    after_end = END + dt.timedelta(days=1)
    await _record(new_uow, contract_id, OperationalContractExpired(contract_id=contract_id, end_date=END), today=after_end)
    assert _asset_events(store, "R-1")[-1] == CoverageLapsed(asset_id="R-1", on=after_end, last_contract_id=contract_id,
                                                             reason="contract_expired")


async def test_a_renewal_successor_carries_its_predecessors_links_from_its_start(new_uow):
    await _register(new_uow, ("R-1", "critical"), ("R-2", "critical"))
    old = await _vendor_contract(new_uow, "V-1")
    await linking.link_asset(new_uow(), TODAY, old, "R-1")
    await linking.link_asset(new_uow(), TODAY, old, "R-2", None, dt.date(2027, 6, 30))  # ended: not renewed
    new = await _vendor_contract(new_uow, "V-2", active=False, start=dt.date(2028, 1, 1), end=dt.date(2028, 12, 31),
                                 predecessor_id=old)
    successor = await linking.get_contract(new_uow(), new)
    assert {a: (link.carried_from, link.effective_from) for a, link in successor.links.items()} == {"R-1": (old, None)}


async def test_the_uncovered_list_names_critical_assets_without_coverage_or_lapsing_soon(new_uow):
    await _register(new_uow, ("R-1", "critical"), ("R-2", "critical"), ("R-3", "critical"), ("R-4", "low"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    await linking.link_asset(new_uow(), TODAY, contract_id, "R-1")
    await linking.link_asset(new_uow(), TODAY, contract_id, "R-2", None, dt.date(2027, 3, 20))

    async def listed(days: int, after=None, limit=100):
        found, cursor = await proofs.uncovered_assets(new_uow(), TODAY, criticality="critical",
                                                      lapsing_within_days=days, after=after, limit=limit)
        return [(u.asset_id, u.covered_until) for u in found], cursor

    assert await listed(0) == ([("R-3", None)], None)
    assert await listed(30) == ([("R-2", dt.date(2027, 3, 20)), ("R-3", None)], None)
    assert await listed(30, limit=1) == ([("R-2", dt.date(2027, 3, 20))], "R-2")
    assert await listed(30, after="R-2", limit=1) == ([("R-3", None)], "R-3")


async def test_a_successor_contract_continues_the_coverage_without_a_gap(new_uow):
    await _register(new_uow, ("R-1", "critical"))
    old = await _vendor_contract(new_uow, "V-1")
    new = await _vendor_contract(new_uow, "V-2", active=False, start=dt.date(2028, 1, 1), end=dt.date(2028, 12, 31))
    await linking.link_asset(new_uow(), TODAY, old, "R-1")
    await linking.link_asset(new_uow(), TODAY, new, "R-1")
    assert (await _proof(new_uow, "R-1", TODAY)).covered_until == dt.date(2028, 12, 31)


async def test_an_unknown_asset_has_an_empty_proof_marked_unregistered(new_uow):
    proof = await _proof(new_uow, "NOPE-1", TODAY)
    assert (proof.registered, proof.links, proof.covered_until) == (False, [], None)


async def test_an_answer_as_known_before_a_backdated_change_shows_the_old_link(new_uow, store):
    await _register(new_uow, ("R-1", "critical"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    await linking.link_asset(new_uow(), TODAY, contract_id, "R-1")
    known_before = dt.datetime.now(dt.UTC)
    await linking.revise_link(new_uow(), TODAY, contract_id, "R-1", None, dt.date(2027, 2, 1))

    assert (await _proof(new_uow, "R-1", TODAY)).links[0][1] == "link_ended"
    assert (await _proof(new_uow, "R-1", TODAY, known_before)).links[0][1] is None
    assert (await _proof(new_uow, "R-1", TODAY, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))).links == []


async def test_a_link_end_reached_by_the_scheduler_lapses_the_asset_on_that_day(new_uow, store):
    await _register(new_uow, ("R-1", "critical"))
    contract_id = await _vendor_contract(new_uow, "V-1")
    await linking.link_asset(new_uow(), TODAY, contract_id, "R-1", None, dt.date(2027, 6, 30))
    reached = AssetLinkDateReached(link_id=link_id(contract_id, "R-1"), contract_id=contract_id, asset_id="R-1",
                                   which="end", on=dt.date(2027, 7, 1), reached_at=dt.datetime(2027, 7, 1, tzinfo=dt.UTC))
    for _ in range(2):  # redelivered: the second finds the asset lapsed already
        async with new_uow() as uow:
            await reach_link_date(uow, Envelope(reached, stream_version=1))
            await uow.commit()
    assert _asset_events(store, "R-1")[1:] == [CoverageLapsed(asset_id="R-1", on=dt.date(2027, 7, 1),
                                                              last_contract_id=contract_id, reason="link_ended")]


def test_link_dates_are_announced_once_per_date():
    contract_id = uuid.uuid4()
    dates = LinkDates.for_link(contract_id, "R-1")
    assert dates.id == str(link_id(contract_id, "R-1"))
    assert dates.reach(contract_id, "R-1", "end", dt.date(2027, 7, 1)) is True
    assert dates.reach(contract_id, "R-1", "end", dt.date(2027, 7, 1)) is False
    assert dates.reach(contract_id, "R-1", "start", dt.date(2027, 7, 1)) is True
    assert [first_day_of("end", dt.date(2027, 6, 30)), first_day_of("start", dt.date(2027, 6, 30)),
            first_day_of("end", None)] == [dt.date(2027, 7, 1), dt.date(2027, 6, 30), None]
