"""The contract schedule: expiry falls due at the start of the day after the end date, in the
contract's zone; it fires exactly once; it moves with the end date until it has fired."""

import datetime as dt
import uuid

import pytest

from services.lifecycle_scheduler.domain.schedule import ContractSchedule, expiry_instant
from shared.backbone.clock import AdjustableClock
from shared.events.lifecycle import ContractExpired, ExpiryScheduled

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "end_date, zone, due",
    [
        (dt.date(2026, 12, 31), "UTC", at(2027, 1, 1, 0, 0)),
        (dt.date(2026, 1, 15), "Europe/Berlin", at(2026, 1, 15, 23, 0)),  # CET, UTC+1
        (dt.date(2026, 7, 15), "Europe/Berlin", at(2026, 7, 15, 22, 0)),  # CEST, UTC+2
        # US clocks go forward on Sunday 2026-03-08 at 02:00
        (dt.date(2026, 3, 7), "America/New_York", at(2026, 3, 8, 5, 0)),  # midnight EST, UTC-5
        (dt.date(2026, 3, 8), "America/New_York", at(2026, 3, 9, 4, 0)),  # midnight EDT, UTC-4
        # and back on Sunday 2026-11-01 at 02:00
        (dt.date(2026, 10, 31), "America/New_York", at(2026, 11, 1, 4, 0)),
        (dt.date(2026, 11, 1), "America/New_York", at(2026, 11, 2, 5, 0)),
        # Auckland is ahead of UTC: the due instant falls on the end date itself in UTC
        (dt.date(2026, 1, 15), "Pacific/Auckland", at(2026, 1, 15, 11, 0)),  # NZDT, UTC+13
        (dt.date(2026, 7, 15), "Pacific/Auckland", at(2026, 7, 15, 12, 0)),  # NZST, UTC+12
    ],
)
def test_expiry_instant_is_the_start_of_the_next_day_in_the_zone_in_utc(end_date, zone, due):
    instant = expiry_instant(end_date, zone)
    assert instant == due
    assert instant.utcoffset() == dt.timedelta(0)


def test_the_day_of_a_dst_change_has_23_or_25_hours_before_expiry():
    ny = "America/New_York"
    spring = expiry_instant(dt.date(2026, 3, 8), ny) - expiry_instant(dt.date(2026, 3, 7), ny)
    autumn = expiry_instant(dt.date(2026, 11, 1), ny) - expiry_instant(dt.date(2026, 10, 31), ny)
    assert spring == dt.timedelta(hours=23)
    assert autumn == dt.timedelta(hours=25)


def scheduled(end_date=dt.date(2026, 6, 30), zone="Europe/Berlin") -> ContractSchedule:
    schedule = ContractSchedule.for_contract(uuid.uuid4())
    schedule.schedule_expiry(end_date, zone)
    return schedule


def test_scheduling_records_expiry_scheduled_with_the_due_instant():
    contract_id = uuid.uuid4()
    schedule = ContractSchedule.for_contract(contract_id)
    schedule.schedule_expiry(dt.date(2026, 6, 30), "Europe/Berlin")

    assert schedule.pending_events == [
        ExpiryScheduled(contract_id=contract_id, end_date=dt.date(2026, 6, 30), time_zone="Europe/Berlin",
                        due_at=at(2026, 6, 30, 22, 0))
    ]
    assert schedule.due_at == at(2026, 6, 30, 22, 0)
    assert not schedule.expired


def test_expires_exactly_once_and_not_before_due():
    clock = AdjustableClock()
    schedule = scheduled()
    due = schedule.due_at

    clock.set(due - dt.timedelta(minutes=1))
    assert schedule.expire_if_due(clock.now()) is False
    assert not schedule.expired
    assert len(schedule.pending_events) == 1

    clock.advance(dt.timedelta(minutes=2))
    assert schedule.expire_if_due(clock.now()) is True
    assert schedule.expired
    expired = schedule.pending_events[-1]
    # expired_at is the due instant, not the (later) moment the timer happened to run
    assert expired == ContractExpired(contract_id=uuid.UUID(schedule.id), end_date=dt.date(2026, 6, 30), expired_at=due)

    clock.advance(dt.timedelta(days=3))
    assert schedule.expire_if_due(clock.now()) is False
    assert [type(e) for e in schedule.pending_events] == [ExpiryScheduled, ContractExpired]
    assert schedule.version == 2


def test_expires_at_the_due_instant_itself_and_not_a_microsecond_before():
    schedule = scheduled()
    assert schedule.expire_if_due(schedule.due_at - dt.timedelta(microseconds=1)) is False
    assert schedule.expire_if_due(schedule.due_at) is True


def test_an_unscheduled_contract_never_expires():
    clock = AdjustableClock()
    clock.advance(dt.timedelta(days=10_000))
    schedule = ContractSchedule.for_contract(uuid.uuid4())
    assert schedule.expire_if_due(clock.now()) is False
    assert schedule.pending_events == []


def test_rescheduling_to_a_later_end_date_moves_due_at():
    clock = AdjustableClock()
    schedule = scheduled(dt.date(2026, 6, 30), "Europe/Berlin")
    schedule.schedule_expiry(dt.date(2026, 12, 31), "Europe/Berlin")

    assert schedule.due_at == at(2026, 12, 31, 23, 0)
    assert schedule.end_date == dt.date(2026, 12, 31)
    assert [type(e) for e in schedule.pending_events] == [ExpiryScheduled, ExpiryScheduled]

    # past the old due instant, the extended contract is still in force
    clock.set(at(2026, 7, 15, 12, 0))
    assert schedule.expire_if_due(clock.now()) is False
    clock.set(at(2027, 1, 1, 0, 0))
    assert schedule.expire_if_due(clock.now()) is True
    assert schedule.pending_events[-1].end_date == dt.date(2026, 12, 31)
    assert schedule.pending_events[-1].expired_at == at(2026, 12, 31, 23, 0)


def test_no_rescheduling_after_expiry():
    schedule = scheduled(dt.date(2026, 6, 30))
    due = schedule.due_at
    schedule.expire_if_due(due)

    schedule.schedule_expiry(dt.date(2027, 6, 30), "Europe/Berlin")

    assert schedule.due_at == due
    assert schedule.end_date == dt.date(2026, 6, 30)
    assert [type(e) for e in schedule.pending_events] == [ExpiryScheduled, ContractExpired]


def test_scheduling_the_same_date_twice_records_nothing():
    schedule = scheduled(dt.date(2026, 6, 30), "Europe/Berlin")
    schedule.schedule_expiry(dt.date(2026, 6, 30), "Europe/Berlin")
    assert len(schedule.pending_events) == 1

    # also after a reload: a redelivered ContractActivated must not schedule again
    loaded = ContractSchedule.rehydrate(schedule.id, schedule.pending_events)
    loaded.schedule_expiry(dt.date(2026, 6, 30), "Europe/Berlin")
    assert loaded.pending_events == []


def test_rehydrate_equals():
    schedule = scheduled(dt.date(2026, 6, 30))
    schedule.schedule_expiry(dt.date(2026, 9, 30), "America/New_York")
    schedule.expire_if_due(schedule.due_at)

    loaded = ContractSchedule.rehydrate(schedule.id, schedule.pending_events)

    assert (loaded.end_date, loaded.time_zone, loaded.due_at, loaded.expired) == (
        dt.date(2026, 9, 30), "America/New_York", at(2026, 10, 1, 4, 0), True,
    )
    assert loaded.version == schedule.version == 3
    assert loaded.expire_if_due(at(2030, 1, 1)) is False
