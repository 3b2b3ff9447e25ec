"""Change windows: overlap detection (pure) and the use cases on the in-memory unit of work: an
overlap is flagged on both windows once, found afresh after a revision, gone after a cancel."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import DomainError
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.change_windows import ChangeWindowOverlapFlagged, ChangeWindowPlan
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application import change_windows as use_cases
from services.asset_coverage.domain.change_window import ChangeWindow, Overlap, overlap

DAY = dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)


def plan(start_hour: int = 0, hours: int = 4, *, assets=("ROB-1",), site=None, **extra) -> ChangeWindowPlan:
    starts = DAY + dt.timedelta(hours=start_hour)
    return ChangeWindowPlan(title="Warranty visit", starts_at=starts, ends_at=starts + dt.timedelta(hours=hours),
                            asset_ids=list(assets), site=site, **extra)


def test_windows_overlap_on_a_common_asset_when_their_times_intersect():
    assert overlap(plan(0, 4, assets=("ROB-1", "PLC-2")), plan(2, 4, assets=("PLC-2", "CNC-3"))) == Overlap(("PLC-2",), None)


def test_windows_back_to_back_do_not_overlap():
    assert overlap(plan(0, 4), plan(4, 2)) is None


def test_windows_at_the_same_site_overlap_without_a_common_asset():
    assert overlap(plan(0, 4, assets=(), site="Plant 4"), plan(1, 1, assets=("X-1",), site="Plant 4")) == Overlap((), "Plant 4")


def test_windows_on_different_assets_and_sites_do_not_overlap():
    assert overlap(plan(0, 4, site="Plant 4"), plan(0, 4, assets=("ROB-9",), site="Plant 5")) is None


def test_instants_in_other_zones_are_compared_as_instants():
    berlin = dt.timezone(dt.timedelta(hours=1))
    later = ChangeWindowPlan(title="t", starts_at=dt.datetime(2027, 3, 1, 11, 30, tzinfo=berlin),
                             ends_at=dt.datetime(2027, 3, 1, 13, tzinfo=berlin), asset_ids=["ROB-1"])
    assert overlap(plan(0, 3), later) is not None  # 10:30 UTC is before 11:00 UTC


@pytest.mark.parametrize("bad, rule", [
    (dict(assets=(), site=None), "window.nothing_affected"),
    (dict(hours=0), "window.ends_before_start"),
    (dict(time_zone="Mars/Olympus"), "window.unknown_time_zone"),
])
def test_a_plan_breaking_a_rule_is_refused(bad, rule):
    with pytest.raises(DomainError) as refused:
        ChangeWindow.plan_window(uuid.uuid4(), plan(**bad))
    assert refused.value.rule == rule


@pytest.fixture
def uow():
    store = MemoryEventStore()
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


def flags(store_uow, window_id) -> list[ChangeWindowOverlapFlagged]:
    return [r.event for r in store_uow().store.read_stream(str(window_id))
            if isinstance(r.event, ChangeWindowOverlapFlagged)]


async def test_the_later_window_finds_the_earlier_and_both_are_flagged(uow):
    first, second, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await use_cases.plan_window(uow(), first, plan(0, 4, assets=("ROB-1", "PLC-2")))
    await use_cases.plan_window(uow(), elsewhere, plan(0, 4, assets=("ROB-7",)))
    await use_cases.plan_window(uow(), second, plan(3, 2, assets=("PLC-2",)))

    assert [(f.other_window_id, f.shared_asset_ids) for f in flags(uow, first)] == [(second, ["PLC-2"])]
    assert [(f.other_window_id, f.shared_asset_ids) for f in flags(uow, second)] == [(first, ["PLC-2"])]
    assert flags(uow, elsewhere) == []
    window, overlaps = await use_cases.get_window(uow(), first)
    assert [w for w, _ in overlaps] == [second]
    rows = await use_cases.list_windows(uow(), overlapping=True)
    assert {r.window_id for r in rows} == {first, second}


async def test_a_retried_plan_is_a_replay_and_another_plan_under_its_id_is_refused(uow):
    window_id = uuid.uuid4()
    _, created = await use_cases.plan_window(uow(), window_id, plan())
    _, again = await use_cases.plan_window(uow(), window_id, plan())
    assert (created, again) == (True, False)
    with pytest.raises(DomainError) as refused:
        await use_cases.plan_window(uow(), window_id, plan(hours=8))
    assert refused.value.rule == "change_window.already_exists"


async def test_a_revision_moving_a_window_into_another_flags_both(uow):
    a, b = uuid.uuid4(), uuid.uuid4()
    await use_cases.plan_window(uow(), a, plan(0, 2))
    await use_cases.plan_window(uow(), b, plan(5, 2))
    assert flags(uow, a) == []
    await use_cases.revise_window(uow(), b, {"starts_at": DAY + dt.timedelta(hours=1)}, expected_version=1)
    assert [f.other_window_id for f in flags(uow, a)] == [b]
    assert [f.other_window_id for f in flags(uow, b)] == [a]


async def test_a_canceled_window_overlaps_nothing(uow):
    a, b = uuid.uuid4(), uuid.uuid4()
    await use_cases.plan_window(uow(), a, plan(0, 4))
    await use_cases.plan_window(uow(), b, plan(1, 4))
    await use_cases.cancel_window(uow(), b, "vendor postponed", DAY, expected_version=None)
    window, overlaps = await use_cases.get_window(uow(), a)
    assert overlaps == []
    assert await use_cases.list_windows(uow(), overlapping=True) == []
    with pytest.raises(DomainError) as refused:
        await use_cases.revise_window(uow(), b, {"title": "again"}, expected_version=None)
    assert refused.value.rule == "window.canceled"


async def test_a_revision_cannot_clear_a_required_field(uow):
    a = uuid.uuid4()
    await use_cases.plan_window(uow(), a, plan())
    with pytest.raises(DomainError) as refused:
        await use_cases.revise_window(uow(), a, {"ends_at": None}, expected_version=None)
    assert refused.value.rule == "window.field_required"


def test_instants_outside_the_plannable_dates_are_refused():
    early = ChangeWindowPlan(title="t", starts_at=dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                             ends_at=DAY, asset_ids=["ROB-1"])
    with pytest.raises(DomainError) as refused:
        ChangeWindow.plan_window(uuid.uuid4(), early)
    assert (refused.value.rule, refused.value.field) == ("dates.out_of_range", "starts_at")
