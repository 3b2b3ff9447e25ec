"""Clocks. Services read time only through one, so tests can move time instead of sleeping."""

import datetime as dt
from typing import Protocol


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
