"""Renewal terms as data, and the dates of a contract's periods (pure: no I/O, no clock).

The rules (docs/contracting/renewals.md; docs/design/obligations_and_renewals.md, "Dates"):
- durations are ISO 8601, years and months or weeks and days, no time parts;
- period 1 starts on the contract's start date; the start of period k >= 2 is
  `start + (initial_term + (k-2) x renewal_term)` in ONE relativedelta step from the anchor, so a
  term starting 31 January never drifts to the 28th;
- a period ends the day before the next one starts (inclusive end);
- notice deadline = end minus the notice period (a month step clamps to the month's last day),
  cancel-by = notice deadline minus the lead time;
- a tacit contract has 1 + max_renewals periods (unlimited when absent); an express one has only
  its initial period (a renewal is then a successor contract);
- a date is "reached" at the start of that day in the contract's zone."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import isodate
from dateutil.relativedelta import relativedelta

from shared.backbone.clock import LATEST_DATE
from shared.backbone.errors import invalid
from shared.events.renewal_terms import ContractPeriod, RenewalTerms
from services.clm.domain import rules

DURATION_SHAPE = re.compile(r"^P(?!$)[0-9YMWD]*$")  # no time part, no sign, no fraction
MAX_PERIODS_LISTED = 50
MAX_YEARS = 100  # of any one duration: the periods' dates stay within the calendar's


@dataclass(frozen=True)
class Duration:
    """A calendar duration: whole months, then whole days (the order relativedelta applies them)."""

    months: int
    days: int

    @property
    def step(self) -> relativedelta:
        return relativedelta(months=self.months, days=self.days)

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.days == 0

    def iso(self) -> str:
        return f"P{self.months}M" if not self.days else (f"P{self.days}D" if not self.months else
                                                         f"P{self.months}M{self.days}D")


def parse_duration(text: str, field: str) -> Duration:
    """`P12M`, `P1Y`, `P1Y6M`, `P90D`, `P2W`, `P0D`; anything else is 422 renewal_terms.duration_invalid."""
    read = _read_duration(text) if isinstance(text, str) else _NOT_ISO
    if isinstance(read, str):
        raise invalid(rules.RENEWAL_DURATION_INVALID, f"{text!r} is not a duration in years, months, weeks or days: "
                      f"{read}", field=field)
    return read


_NOT_ISO = "write it as ISO 8601, e.g. P12M, P1Y, P90D (no time part, no sign, no fraction)"


@lru_cache(maxsize=1024)
def _read_duration(text: str) -> Duration | str:
    """The duration, or why it is not one. Cached: every activation reads its terms' four durations,
    and isodate's parse was ~15 % of CLM's CPU on the command path (py-spy, 2026-12-04)."""
    if not DURATION_SHAPE.match(text.strip().upper()):
        return _NOT_ISO
    try:
        parsed = isodate.parse_duration(text.strip().upper())
    except (isodate.ISO8601Error, ValueError, OverflowError) as error:
        return str(error)
    if isinstance(parsed, dt.timedelta):
        months, delta = 0, parsed
    else:
        years, month_part = Decimal(str(parsed.years)), Decimal(str(parsed.months))
        if years != years.to_integral_value() or month_part != month_part.to_integral_value():
            return "years and months are whole numbers"
        months, delta = int(years) * 12 + int(month_part), parsed.tdelta
    if delta.seconds or delta.microseconds or delta.days < 0 or months < 0:
        return "whole days only"
    if months > 12 * MAX_YEARS or delta.days > 366 * MAX_YEARS:
        return f"at most {MAX_YEARS} years"
    return Duration(months, delta.days)


@dataclass(frozen=True)
class Terms:
    """RenewalTerms with their durations read (checked once)."""

    data: RenewalTerms
    initial: Duration
    renewal: Duration
    notice: Duration
    lead: Duration

    @classmethod
    def of(cls, data: RenewalTerms) -> "Terms":
        initial = parse_duration(data.initial_term, "initial_term")
        renewal = parse_duration(data.renewal_term, "renewal_term") if data.renewal_term else initial
        for name, value in (("initial_term", initial), ("renewal_term", renewal)):
            if value.is_zero:
                raise invalid(rules.RENEWAL_DURATION_INVALID, "a term lasts at least a day", field=name)
        return cls(data, initial, renewal, parse_duration(data.notice_period, "notice_period"),
                   parse_duration(data.lead_time, "lead_time"))

    @property
    def tacit(self) -> bool:
        return self.data.renewal == "tacit"

    @property
    def last_period(self) -> int | None:
        """The number of the last period these terms allow (None: unlimited)."""
        if not self.tacit:
            return 1
        return None if self.data.max_renewals is None else 1 + self.data.max_renewals


def period_start(terms: Terms, start: dt.date, number: int) -> dt.date:
    if number == 1:
        return start
    step = relativedelta(months=terms.initial.months + (number - 2) * terms.renewal.months,
                         days=terms.initial.days + (number - 2) * terms.renewal.days)
    return start + step


def period(terms: Terms, start: dt.date, number: int) -> ContractPeriod:
    """Period `number` (1 = the initial term) of a contract starting on `start`; ValueError when the
    terms allow no such period, OverflowError past the calendar's end."""
    if number < 1 or (terms.last_period is not None and number > terms.last_period):
        raise ValueError(f"the terms allow periods 1..{terms.last_period}, not {number}")
    end = period_start(terms, start, number + 1) - dt.timedelta(days=1)
    notice_deadline = end - terms.notice.step
    return ContractPeriod(number=number, start_date=period_start(terms, start, number), end_date=end,
                          notice_deadline=notice_deadline, cancel_by=notice_deadline - terms.lead.step)


def periods(terms: Terms, start: dt.date, count: int, first: int = 1) -> list[ContractPeriod]:
    """Up to `count` periods from number `first`: fewer when the terms allow fewer, or when a
    period would end past the last plannable date."""
    found = []
    number = first
    while len(found) < count and (terms.last_period is None or number <= terms.last_period):
        try:
            p = period(terms, start, number)
        except (OverflowError, ValueError):
            break
        if p.end_date > LATEST_DATE:
            break
        found.append(p)
        number += 1
    return found


def derived_initial_term(start: dt.date, end: dt.date) -> str:
    """The initial term of a contract running start..end (inclusive): whole months when the end is
    the day before a month step from the start (P12M), else days (P45D)."""
    after = end + dt.timedelta(days=1)
    guess = (after.year - start.year) * 12 + after.month - start.month
    for months in (guess, guess - 1, guess + 1):
        if months > 0 and start + relativedelta(months=months) == after:
            return f"P{months}M"
    return f"P{(after - start).days}D"


def initial_end(terms: Terms, start: dt.date) -> dt.date | None:
    """The initial term's last day; None past the calendar's end."""
    try:
        return period_start(terms, start, 2) - dt.timedelta(days=1)
    except (OverflowError, ValueError):
        return None


def start_of_day(date: dt.date, time_zone: str) -> dt.datetime:
    """When `date` begins in `time_zone`, in UTC (a day whose midnight a clock change skips begins
    at the first instant that exists, which the UTC round trip gives)."""
    local = dt.datetime.combine(date, dt.time(0), ZoneInfo(time_zone))
    return local.astimezone(dt.UTC)


def next_possible_end(terms: Terms, start: dt.date, after: int, today: dt.date) -> ContractPeriod | None:
    """The first period after number `after` whose notice deadline is still to come (or today)."""
    number = after + 1
    while (terms.last_period is None or number <= terms.last_period) and number <= after + 10_000:
        try:
            p = period(terms, start, number)
        except (OverflowError, ValueError):
            return None
        if p.end_date > LATEST_DATE:
            return None
        if p.notice_deadline >= today:
            return p
        number += 1
    return None
