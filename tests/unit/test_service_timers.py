"""Service contract timers, the pure part: when activation and expiry fall due in the contract's
zone (DST included), which timers an item needs in its state, and the one event per contract
that a sweep records."""

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest

from services.lifecycle_scheduler.application.timetables import _whole_contracts
from services.lifecycle_scheduler.domain.schedule import activation_instant, expiry_instant
from services.lifecycle_scheduler.domain.timetable import (
    ServiceContractTimetable,
    Timer,
    activation,
    contract_timers,
    expiry,
    item_timers,
)
from shared.events.lifecycle import DueTransition, ServiceContractDateReached
from shared.events.orders import (
    ContractLineTerms,
    EntitlementTerms,
    ServiceContractDrafted,
    ServiceContractRecorded,
    ServiceState,
)

UTC = dt.UTC
D = dt.date


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "start_date, zone, due",
    [
        (D(2026, 1, 1), "UTC", at(2026, 1, 1, 0, 0)),
        (D(2026, 1, 15), "Europe/Berlin", at(2026, 1, 14, 23, 0)),  # CET, UTC+1
        (D(2026, 7, 15), "Europe/Berlin", at(2026, 7, 14, 22, 0)),  # CEST, UTC+2
        # Berlin springs forward on Sunday 2026-03-29 at 02:00, after that day began in CET
        (D(2026, 3, 29), "Europe/Berlin", at(2026, 3, 28, 23, 0)),
        (D(2026, 3, 30), "Europe/Berlin", at(2026, 3, 29, 22, 0)),
        # Santiago springs forward at midnight: 2026-09-06 has no 00:00 and begins at 01:00 -03
        (D(2026, 9, 6), "America/Santiago", at(2026, 9, 6, 4, 0)),
        # Havana falls back at 01:00 to 00:00 on 2026-11-01: the day begins at the first midnight (-04)
        (D(2026, 11, 1), "America/Havana", at(2026, 11, 1, 4, 0)),
        (D(2026, 1, 15), "Pacific/Auckland", at(2026, 1, 14, 11, 0)),  # NZDT, UTC+13: the day before in UTC
    ],
)
def test_activation_is_due_at_the_start_of_the_start_date_in_the_zone(start_date, zone, due):
    instant = activation_instant(start_date, zone)
    assert instant == due
    assert instant.utcoffset() == dt.timedelta(0)


def test_the_start_of_a_day_is_never_inside_the_previous_day_in_the_zone():
    from zoneinfo import ZoneInfo

    for zone in ("America/Santiago", "America/Havana", "Europe/Berlin", "America/New_York", "Pacific/Auckland"):
        day = D(2026, 1, 1)
        while day < D(2027, 1, 1):
            local = activation_instant(day, zone).astimezone(ZoneInfo(zone))
            just_before = (activation_instant(day, zone) - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(zone))
            assert local.date() == day and just_before.date() == day - dt.timedelta(days=1), (zone, day)
            day += dt.timedelta(days=1)


def test_expiry_timer_waits_for_the_day_after_the_end_date():
    item = uuid.uuid4()
    timer = expiry("line", item, D(2026, 3, 28), "Europe/Berlin")
    assert timer == Timer("line", item, "expiry", D(2026, 3, 29), at(2026, 3, 28, 23, 0))
    assert timer.due_at == expiry_instant(D(2026, 3, 28), "Europe/Berlin")
    # the end date is the DST day itself: 23 hours later in UTC than the day before
    assert expiry("line", item, D(2026, 3, 29), "Europe/Berlin").due_at == at(2026, 3, 29, 22, 0)


def test_a_draft_item_needs_activation_and_expiry():
    item = uuid.uuid4()
    timers = item_timers("line", item, D(2026, 2, 1), D(2026, 12, 31), ServiceState.DRAFT, "Europe/Berlin")
    assert timers == [
        Timer("line", item, "activation", D(2026, 2, 1), at(2026, 1, 31, 23, 0)),
        Timer("line", item, "expiry", D(2027, 1, 1), at(2026, 12, 31, 23, 0)),
    ]


def test_an_active_item_needs_no_activation_and_a_suspended_one_keeps_both():
    item = uuid.uuid4()
    active = item_timers("entitlement", item, D(2026, 2, 1), D(2026, 12, 31), ServiceState.ACTIVE, "UTC")
    assert [t.transition for t in active] == ["expiry"]
    suspended = item_timers("entitlement", item, D(2026, 2, 1), D(2026, 12, 31), ServiceState.SUSPENDED, "UTC")
    assert [t.transition for t in suspended] == ["activation", "expiry"]


@pytest.mark.parametrize("state", [ServiceState.EXPIRED, ServiceState.CANCELED])
def test_an_ended_item_needs_no_timer(state):
    assert item_timers("line", uuid.uuid4(), D(2026, 2, 1), D(2026, 12, 31), state, "UTC") == []


def line(state=ServiceState.DRAFT, start=D(2026, 2, 1), end=D(2026, 6, 30)) -> ContractLineTerms:
    return ContractLineTerms(line_id=uuid.uuid4(), product="Premium support", quantity=1, unit_price=100,
                             start_date=start, end_date=end, state=state)


def entitlement(line_id=None, state=ServiceState.DRAFT, start=D(2026, 2, 1), end=D(2026, 6, 30)) -> EntitlementTerms:
    return EntitlementTerms(entitlement_id=uuid.uuid4(), line_id=line_id, name="onsite-repair",
                            start_date=start, end_date=end, state=state)


def test_a_drafted_contract_gets_timers_for_itself_and_every_open_item_in_its_zone():
    draft_line, active_line, expired_line = line(), line(ServiceState.ACTIVE), line(ServiceState.EXPIRED)
    attached, canceled = entitlement(draft_line.line_id), entitlement(state=ServiceState.CANCELED)
    event = ServiceContractDrafted(
        contract_id=uuid.uuid4(), number="SC-1", account="ACME", start_date=D(2026, 2, 1), end_date=D(2026, 12, 31),
        time_zone="America/New_York", lines=[draft_line, active_line, expired_line], entitlements=[attached, canceled],
    )

    timers = contract_timers(event)

    assert {(t.item_kind, t.item_id, t.transition) for t in timers} == {
        ("contract", event.contract_id, "activation"), ("contract", event.contract_id, "expiry"),
        ("line", draft_line.line_id, "activation"), ("line", draft_line.line_id, "expiry"),
        ("line", active_line.line_id, "expiry"),
        ("entitlement", attached.entitlement_id, "activation"), ("entitlement", attached.entitlement_id, "expiry"),
    }
    contract_expiry = next(t for t in timers if t.item_kind == "contract" and t.transition == "expiry")
    assert contract_expiry.due_at == at(2027, 1, 1, 5, 0)  # midnight EST
    assert {t.line_id for t in timers if t.item_kind == "entitlement"} == {draft_line.line_id}


def test_a_recorded_contract_is_read_in_utc_unless_it_names_a_zone():
    recorded = ServiceContractRecorded(contract_id=uuid.uuid4(), number="SC-2", account="ACME",
                                       start_date=D(2026, 2, 1), end_date=D(2026, 12, 31))
    assert [t.due_at for t in contract_timers(recorded)] == [at(2026, 2, 1), at(2027, 1, 1)]


def test_rezoning_keeps_the_date_and_moves_the_instant():
    timer = activation("contract", uuid.uuid4(), D(2026, 7, 1), "UTC")
    moved = timer.rezoned("Asia/Tokyo")
    assert (moved.due_on, moved.due_at) == (D(2026, 7, 1), at(2026, 6, 30, 15, 0))


def test_timers_due_together_are_reached_in_one_event_naming_the_latest_date():
    contract_id = uuid.uuid4()
    line_id, entitlement_id = uuid.uuid4(), uuid.uuid4()
    zone = "Europe/Berlin"
    fired = [
        expiry("entitlement", entitlement_id, D(2026, 6, 30), zone),
        activation("line", line_id, D(2026, 6, 1), zone),  # due during downtime, fired late
        expiry("contract", contract_id, D(2026, 6, 30), zone),
    ]
    now = at(2026, 7, 1, 8, 0)
    timetable = ServiceContractTimetable.at_version(contract_id, 3)

    timetable.reach(fired, zone, now)

    assert timetable.pending_events == [
        ServiceContractDateReached(
            contract_id=contract_id, date=D(2026, 7, 1), time_zone=zone, reached_at=now,
            due=[
                DueTransition(item_kind="line", item_id=line_id, transition="activation", due_at=at(2026, 5, 31, 22, 0)),
                DueTransition(item_kind="contract", item_id=contract_id, transition="expiry", due_at=at(2026, 6, 30, 22, 0)),
                DueTransition(item_kind="entitlement", item_id=entitlement_id, transition="expiry",
                              due_at=at(2026, 6, 30, 22, 0)),
            ],
        )
    ]
    assert (timetable.persisted_version, timetable.version) == (3, 4)
    assert timetable.last_date_reached == D(2026, 7, 1)


def test_nothing_fired_records_nothing():
    timetable = ServiceContractTimetable.for_contract(uuid.uuid4())
    timetable.reach([], "UTC", at(2026, 1, 1))
    assert timetable.pending_events == []


def test_the_timetable_stream_is_not_the_legal_contract_schedule_stream():
    contract_id = uuid.uuid4()
    timetable = ServiceContractTimetable.for_contract(contract_id)
    assert timetable.id != str(contract_id)
    assert timetable.contract_id == contract_id
    assert timetable.pending_events == [] and timetable.version == 0


def test_rehydrate_equals():
    contract_id = uuid.uuid4()
    timetable = ServiceContractTimetable.for_contract(contract_id)
    timetable.reach([activation("contract", contract_id, D(2026, 2, 1), "UTC")], "UTC", at(2026, 2, 1))
    timetable.reach([expiry("contract", contract_id, D(2026, 12, 31), "UTC")], "UTC", at(2027, 1, 1))

    loaded = ServiceContractTimetable.rehydrate(timetable.id, timetable.pending_events)

    assert (loaded.last_date_reached, loaded.version) == (D(2027, 1, 1), 2)


def rows(*contracts: str) -> list:
    return [SimpleNamespace(contract_id=c) for c in contracts]


def test_a_full_batch_leaves_the_contract_it_ends_in_for_the_next_sweep():
    assert _whole_contracts(rows("a", "a", "b", "c", "c"), full=True) == rows("a", "a", "b")
    # ordered by due instant first: the last contract's earlier timers wait with the rest
    assert _whole_contracts(rows("c", "a", "b", "c"), full=True) == rows("a", "b")


def test_a_batch_that_is_not_full_or_holds_one_contract_fires_whole():
    assert _whole_contracts(rows("a", "b", "c"), full=False) == rows("a", "b", "c")
    assert _whole_contracts(rows("a", "a", "a"), full=True) == rows("a", "a", "a")
