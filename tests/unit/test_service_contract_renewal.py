"""A service contract following its legal contract's tacit renewal (domain/service_contract/renewal.py):
what ends on the renewed period's end runs on to the new end, with the date events consumers follow;
what ends earlier or is terminal stays; applying the same renewal again records nothing. And the
scheduler holding the service contract's expiry at a tacit period end (domain/renewal_hold.py)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError
from shared.events.orders import (
    ContractLineDatesChanged, EntitlementDatesChanged, ServiceContractDatesChanged, ServiceState,
)
from shared.events.renewal_terms import ContractPeriod
from services.lifecycle_scheduler.domain.contract_periods import PeriodState
from services.lifecycle_scheduler.domain.renewal_hold import LIMIT, held_for_renewal
from services.order_sync.domain import rules
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

D = dt.date
START, END, NEW_END = D(2027, 1, 1), D(2027, 12, 31), D(2028, 12, 31)
JUNE30 = D(2027, 6, 30)


def line(end=END) -> ContractLine:
    return ContractLine(line_id=uuid.uuid4(), product="Premium support", quantity=2, unit_price=Decimal("100"),
                        start_date=START, end_date=end, sold_product_id=uuid.uuid4())


def entitlement(end=END, line_id=None, start=START) -> Entitlement:
    return Entitlement(entitlement_id=uuid.uuid4(), name="onsite-repair", start_date=start, end_date=end,
                       line_id=line_id, sla="4h response")


class Fleet:
    """An active contract (START..END) with: a line to the end and its entitlement to the end; a line
    disconnected-like to June 30 with its entitlement; an entitlement on the contract to the end; one
    canceled; one starting later, still Draft, to the end."""

    def __init__(self):
        self.full, self.short = line(), line(JUNE30)
        self.on_full, self.on_short = entitlement(line_id=self.full.line_id), entitlement(JUNE30, self.short.line_id)
        self.own, self.canceled = entitlement(), entitlement()
        self.later = entitlement(start=D(2027, 9, 1))
        self.contract = ServiceContract.draft(
            uuid.uuid4(), number="SC-1", account="ACME", start_date=START, end_date=END, time_zone="Europe/Berlin",
            lines=[self.full, self.short],
            entitlements=[self.on_full, self.on_short, self.own, self.canceled, self.later])
        self.contract.reach(D(2027, 3, 1))
        self.contract.cancel_entitlement(self.canceled.entitlement_id, D(2027, 3, 2))
        self.history = self.contract.pending_events
        self.contract.mark_persisted()


def test_the_contract_and_what_ends_with_it_move_to_the_new_end():
    f = Fleet()
    cid = f.contract.contract_id

    f.contract.renew(END, NEW_END)

    assert f.contract.pending_events == [
        ServiceContractDatesChanged(contract_id=cid, start_date=START, end_date=NEW_END),
        ContractLineDatesChanged(contract_id=cid, line_id=f.full.line_id, start_date=START, end_date=NEW_END),
        EntitlementDatesChanged(contract_id=cid, entitlement_id=f.on_full.entitlement_id, start_date=START,
                                end_date=NEW_END),
        EntitlementDatesChanged(contract_id=cid, entitlement_id=f.own.entitlement_id, start_date=START,
                                end_date=NEW_END),
        EntitlementDatesChanged(contract_id=cid, entitlement_id=f.later.entitlement_id, start_date=D(2027, 9, 1),
                                end_date=NEW_END),
    ]
    c = f.contract
    assert (c.state, c.end_date) == (ServiceState.ACTIVE, NEW_END)
    assert c.lines[f.short.line_id].end_date == JUNE30 and c.entitlements[f.on_short.entitlement_id].end_date == JUNE30
    assert c.entitlements[f.canceled.entitlement_id].end_date == END  # terminal: stays as it ended
    # the old end passing expires nothing any more; the new one does
    c.reach(END + dt.timedelta(days=1))
    assert c.state == ServiceState.ACTIVE and c.lines[f.full.line_id].state == ServiceState.ACTIVE
    assert c.lines[f.short.line_id].state == ServiceState.EXPIRED
    c.reach(NEW_END + dt.timedelta(days=1))
    assert c.state == ServiceState.EXPIRED and c.entitlements[f.own.entitlement_id].state == ServiceState.EXPIRED


def test_the_same_renewal_again_records_nothing_and_the_stream_replays_to_the_same_dates():
    f = Fleet()
    f.contract.renew(END, NEW_END)
    events = f.contract.pending_events
    f.contract.mark_persisted()

    f.contract.renew(END, NEW_END)  # redelivered: nothing ends on END any more

    assert f.contract.pending_events == []
    replayed = ServiceContract.rehydrate(f.contract.id, f.history + events)
    assert replayed.end_date == NEW_END
    assert [e.end_date for e in replayed.lines.values()] == [NEW_END, JUNE30]


def test_the_next_renewal_moves_from_the_renewed_end():
    f = Fleet()
    f.contract.renew(END, NEW_END)
    f.contract.mark_persisted()

    f.contract.renew(NEW_END, D(2029, 12, 31))

    assert f.contract.end_date == D(2029, 12, 31)
    assert len(f.contract.pending_events) == 5
    assert f.contract.lines[f.short.line_id].end_date == JUNE30


def test_a_suspended_item_runs_on_too():
    f = Fleet()
    f.contract.suspend_covering(f.full.sold_product_id, D(2027, 4, 1))
    assert f.contract.lines[f.full.line_id].state == ServiceState.SUSPENDED
    f.contract.mark_persisted()

    f.contract.renew(END, NEW_END)

    assert f.contract.lines[f.full.line_id].end_date == NEW_END
    assert f.contract.entitlements[f.on_full.entitlement_id].end_date == NEW_END
    assert f.contract.lines[f.full.line_id].state == ServiceState.SUSPENDED


def test_a_contract_ending_on_another_date_keeps_it_and_so_do_its_items_beyond_it():
    f = Fleet()
    f.contract.change_dates(START, D(2028, 3, 31))  # extended by hand, not to the new period's end
    f.contract.mark_persisted()

    f.contract.renew(END, NEW_END)

    assert f.contract.pending_events == []  # its items cannot run past the contract's end
    assert f.contract.end_date == D(2028, 3, 31)


@pytest.mark.parametrize("ended", ["expired", "canceled"])
def test_a_terminal_contract_stays_as_it_ended(ended):
    f = Fleet()
    if ended == "expired":
        f.contract.reach(END + dt.timedelta(days=1))
    else:
        f.contract.cancel(D(2027, 5, 1))
    f.contract.mark_persisted()

    f.contract.renew(END, NEW_END)

    assert f.contract.pending_events == [] and f.contract.end_date == END


def test_a_renewal_that_does_not_end_later_is_refused():
    f = Fleet()
    with pytest.raises(DomainError) as refused:
        f.contract.renew(END, END)
    assert (refused.value.rule, f.contract.pending_events) == (rules.RENEWAL_END_NOT_LATER, [])


# -- the scheduler holds the service contract's expiry at a tacit period end ------------------------


BERLIN = "Europe/Berlin"
FIRST = ContractPeriod(number=1, start_date=START, end_date=END, notice_deadline=D(2027, 10, 2), cancel_by=D(2027, 9, 2))
SECOND = ContractPeriod(number=2, start_date=D(2028, 1, 1), end_date=NEW_END, notice_deadline=D(2028, 10, 2),
                        cancel_by=D(2028, 9, 2))
DAY_AFTER = D(2028, 1, 1)
THEN = dt.datetime(2027, 12, 31, 23, 0, tzinfo=dt.UTC)  # midnight in Berlin


def periods(period=FIRST, renewal="tacit", renewals=0, notice=None, max_renewals=None) -> PeriodState:
    return PeriodState(renewal=renewal, max_renewals=max_renewals, renewals=renewals, period=period, notice_period=notice)


@pytest.mark.parametrize("state,held", [
    pytest.param(periods(), True, id="tacit, renews at this end"),
    pytest.param(periods(SECOND, renewals=1), True, id="just renewed from this end: order sync's dates on their way"),
    pytest.param(periods(renewal="express"), False, id="express: expires"),
    pytest.param(periods(notice=1), False, id="notice given for the period: expires"),
    pytest.param(periods(renewals=2, max_renewals=2), False, id="renewals used up: expires"),
    pytest.param(None, False, id="no renewal terms"),
])
def test_an_expiry_at_a_tacit_period_end_waits_for_the_renewal(state, held):
    assert held_for_renewal("expiry", DAY_AFTER, BERLIN, state, THEN) is held


def test_only_expiries_on_the_period_end_wait_and_not_for_ever():
    assert not held_for_renewal("activation", DAY_AFTER, BERLIN, periods(), THEN)
    assert not held_for_renewal("expiry", D(2027, 7, 1), BERLIN, periods(), THEN)  # ended earlier on purpose
    assert held_for_renewal("expiry", DAY_AFTER, BERLIN, periods(), THEN + LIMIT - dt.timedelta(seconds=1))
    assert not held_for_renewal("expiry", DAY_AFTER, BERLIN, periods(), THEN + LIMIT)
