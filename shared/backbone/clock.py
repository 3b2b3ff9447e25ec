"""Clocks. Services read time only through one, so tests can move time instead of sleeping."""

import datetime as dt
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class AdjustableClock:
    """System time shifted by an offset that tests (or a dev-only endpoint) can set."""

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._offset

    def set(self, instant: dt.datetime) -> None:
        self._offset = instant - dt.datetime.now(dt.UTC)

    def advance(self, delta: dt.timedelta) -> None:
        self._offset += delta


def today_in(clock: Clock, time_zone: str) -> dt.date:
    """The calendar date it is now in `time_zone`: contracts read their dates in their own zone."""
    return clock.now().astimezone(ZoneInfo(time_zone)).date()


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())  # scans the tz database: once per process


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    if name not in _time_zone_names():
        return False
    try:
        ZoneInfo(name)
        return True
    except ZoneInfoNotFoundError:
        return False


# The calendar dates a contract may carry. Timers fall due at instants derived from them (the start
# of the day after an end date, in any zone), and 0001-01-01 00:00 UTC is datetime.min, which
# asyncpg stores as -infinity and reads back without a zone: a fuzzed start date of 0001-01-01 once
# stopped the scheduler's sweeps. Real contracts live well inside these bounds.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(9998, 12, 31)


def is_plannable(date: dt.date) -> bool:
    return EARLIEST_DATE <= date <= LATEST_DATE
