"""Service contract expiries held while the legal contract of the same id renews tacitly.

At the start of the day after a period's end two things fall due at once: the period end (which
renews the contract: ContractPeriodEnded -> clm's ContractRenewed -> order sync moves the service
contract's dates) and the service contract's own expiry timers at that old end. The expiry's path
is shorter, so it would win and entitlements would lapse while the contract runs on. An expiry
timer due on the day after the current period's end of a contract that renews tacitly, or on the
first day of a period it just renewed into, is therefore held (its `due_at` pushed by `STEP`)
until order sync's new dates move it, at most `LIMIT` after it fell due: a renewal not followed by
then (the service contract ended otherwise, or never ran on) expires as dated, late but not lost."""

import datetime as dt

from services.lifecycle_scheduler.domain.contract_periods import PeriodState, renews_tacitly
from services.lifecycle_scheduler.domain.schedule import start_of_day
from services.lifecycle_scheduler.domain.timetable import EXPIRY

STEP = dt.timedelta(minutes=5)
LIMIT = dt.timedelta(days=1)


def held_for_renewal(transition: str, due_on: dt.date, time_zone: str, state: PeriodState | None,
                     now: dt.datetime) -> bool:
    """Whether an expiry timer due `due_on` waits for the renewal's new dates instead of firing now."""
    if transition != EXPIRY or state is None:
        return False
    if now >= start_of_day(due_on, time_zone) + LIMIT:
        return False
    period = state.period
    at_this_end = due_on == period.end_date + dt.timedelta(days=1) and renews_tacitly(state)
    just_renewed = due_on == period.start_date and state.renewals >= 1
    return at_this_end or just_renewed
