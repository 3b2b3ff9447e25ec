"""A service contract following its legal contract's tacit renewal (domain/service_contract/renewal.py):
what ends on the renewed period's end runs on to the new end, with the date events consumers follow;
what ends earlier or is terminal stays; applying the same renewal again records nothing."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError
from shared.events.orders import (
    ContractLineDatesChanged, EntitlementDatesChanged, ServiceContractDatesChanged, ServiceState,
)
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
