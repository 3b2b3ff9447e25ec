"""The service contract life-cycle rules (docs/domain.md), one test per rule, on the pure domain model.

Each refused command must name its rule; each allowed one must record the transition event."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError, RuleKind
from shared.events.orders import (
    ContractLineActivated,
    ContractLineExpired,
    ContractLineResumed,
    ContractLineSuspended,
    EntitlementActivated,
    EntitlementExpired,
    EntitlementResumed,
    EntitlementSuspended,
    ServiceContractActivated,
    ServiceContractExpired,
)
from services.order_sync.domain import install_base, rules
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

D = dt.date
START, END = D(2027, 1, 1), D(2027, 12, 31)
BEFORE, DURING, AFTER = D(2026, 12, 1), D(2027, 6, 1), D(2028, 1, 1)


def line(start=START, end=END, product_id=None, item_id=None, **kw) -> ContractLine:
    return ContractLine(line_id=kw.pop("line_id", uuid.uuid4()), product="Premium support", quantity=kw.pop("quantity", 2),
                        unit_price=Decimal("100"), start_date=start, end_date=end, sold_product_id=product_id,
                        install_base_item_id=item_id, **kw)


def entitlement(start=START, end=END, line_id=None, product_id=None, **kw) -> Entitlement:
    return Entitlement(entitlement_id=kw.pop("entitlement_id", uuid.uuid4()), name="onsite-repair", start_date=start,
                       end_date=end, line_id=line_id, sold_product_id=product_id, support_level="gold", **kw)


def contract(lines=(), entitlements=(), suspended=frozenset(), start=START, end=END) -> ServiceContract:
    return ServiceContract.draft(uuid.uuid4(), number="SC-1", account="ACME", start_date=start, end_date=end,
                                 time_zone="Europe/Berlin", lines=lines, entitlements=entitlements, suspended=set(suspended))


def active(*lines_, entitlements=()) -> ServiceContract:
    c = contract(lines_, entitlements)
    c.reach(START)
    c.mark_persisted()
    return c


def refused(rule: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.rule == rule, caught.value
    return caught.value


def new_events(c: ServiceContract) -> list[type]:
    events = [type(e) for e in c.pending_events]
    c.mark_persisted()
    return events


# -- states: Draft, then Active from the start date, Expired after the end date ----------------

def test_created_in_draft_with_its_lines_and_entitlements_in_draft():
    ln = line()
    c = contract([ln], [entitlement(line_id=ln.line_id)])
    assert c.state == "draft" and {i.state for i in c.items()} == {"draft"}


def test_active_from_the_start_date_not_before():
    c = contract([line()], [entitlement()])
    c.reach(START - dt.timedelta(days=1))
    assert c.state == "draft" and c.pending_events[-1].event_type == "ServiceContractDrafted"
    c.reach(START)
    assert c.state == "active" and {i.state for i in c.items()} == {"active"}
    assert ServiceContractActivated in [type(e) for e in c.pending_events]


def test_children_activate_on_their_own_start_dates():
    later = D(2027, 3, 1)
    ln = line(start=later)
    c = contract([ln], [entitlement(start=later, line_id=ln.line_id)])
    c.reach(START)
    assert c.lines[ln.line_id].state == "draft"
    new_events(c)
    c.reach(later)
    assert new_events(c) == [ContractLineActivated, EntitlementActivated]


def test_expires_after_the_end_date_and_cascades_to_every_child():
    ln = line()
    c = active(ln, entitlements=[entitlement(line_id=ln.line_id), entitlement()])
    c.reach(END)
    assert c.state == "active"
    c.reach(END + dt.timedelta(days=1))
    assert c.state == "expired" and {i.state for i in c.items()} == {"expired"}
    assert new_events(c) == [ServiceContractExpired, ContractLineExpired, EntitlementExpired, EntitlementExpired]


def test_reaching_the_same_date_twice_changes_nothing():
    c = active(line())
    c.reach(AFTER)
    new_events(c)
    c.reach(AFTER)
    assert c.pending_events == []


def test_a_child_expiring_never_changes_its_parent():
    ln = line(end=D(2027, 3, 31))
    c = active(ln, entitlements=[entitlement(end=D(2027, 2, 28), line_id=ln.line_id)])
    c.reach(D(2027, 4, 1))
    assert c.lines[ln.line_id].state == "expired" and c.state == "active"
    ln2 = c.add_line(line(start=D(2027, 5, 1)), today=D(2027, 4, 1))
    c.cancel_line(ln2.line_id, D(2027, 4, 2))
    assert c.state == "active"


def test_line_expiry_cascades_to_its_entitlements():
    ln = line(end=D(2027, 3, 31))
    ent = entitlement(end=D(2027, 3, 31), line_id=ln.line_id)
    c = active(ln, entitlements=[ent])
    c.reach(D(2027, 4, 1))
    assert c.entitlements[ent.entitlement_id].state == "expired"


# -- Draft: dates editable, children added and removed -----------------------------------------

def test_draft_dates_editable_both_ways():
    c = contract()
    c.change_dates(D(2027, 2, 1), D(2027, 6, 30))
    assert (c.start_date, c.end_date) == (D(2027, 2, 1), D(2027, 6, 30))


def test_end_before_start_refused():
    refused(rules.DATES_END_BEFORE_START, contract().change_dates, D(2027, 2, 1), D(2027, 1, 31))
    refused(rules.DATES_END_BEFORE_START, contract, [], [], set(), D(2027, 2, 1), D(2027, 1, 31))


def test_draft_lines_and_entitlements_added_and_removed():
    c = contract()
    ln = c.add_line(line(), today=BEFORE)
    ent = c.add_entitlement(entitlement(line_id=ln.line_id), today=BEFORE)
    assert ln.state == ent.state == "draft"
    c.remove_line(ln.line_id)
    assert not c.lines and not c.entitlements  # the line's entitlements go with it


def test_adding_the_same_line_again_is_a_no_op_but_other_terms_are_refused():
    c = contract()
    ln = line()
    c.add_line(ln, today=BEFORE)
    new_events(c)
    c.add_line(ln, today=BEFORE)
    assert c.pending_events == []
    refused("contract_line.already_exists", c.add_line, line(line_id=ln.line_id, quantity=9), BEFORE)


def test_a_draft_lists_each_line_and_entitlement_once():
    ln, ent = line(), entitlement()
    twice = refused(rules.ITEM_DUPLICATE_ID, contract, lines=[ln, ln])
    assert twice.kind == RuleKind.INVALID and twice.field == "lines[1].line_id"
    twice = refused(rules.ITEM_DUPLICATE_ID, contract, entitlements=[ent, ent])
    assert twice.field == "entitlements[1].entitlement_id"


# -- child dates within the parent, on creation and every change ---------------------------------

@pytest.mark.parametrize("start,end", [(D(2026, 12, 31), END), (START, D(2028, 1, 1))])
def test_child_dates_within_contract_on_creation(start, end):
    refused(rules.DATES_CHILD_WITHIN_PARENT, contract, [line(start, end)])
    refused(rules.DATES_CHILD_WITHIN_PARENT, contract().add_line, line(start, end), BEFORE)
    refused(rules.DATES_CHILD_WITHIN_PARENT, contract().add_entitlement, entitlement(start, end), BEFORE)


def test_line_entitlement_dates_within_its_line():
    c = contract()
    ln = c.add_line(line(end=D(2027, 6, 30)), today=BEFORE)
    refused(rules.DATES_CHILD_WITHIN_PARENT, c.add_entitlement, entitlement(end=D(2027, 7, 1), line_id=ln.line_id), BEFORE)


def test_child_dates_within_contract_on_every_change():
    c = contract()
    ln = c.add_line(line(), today=BEFORE)
    refused(rules.DATES_CHILD_WITHIN_PARENT, c.change_line_dates, ln.line_id, START, D(2028, 1, 1))
    ent = c.add_entitlement(entitlement(end=D(2027, 6, 30), line_id=ln.line_id), today=BEFORE)
    refused(rules.DATES_CHILD_WITHIN_PARENT, c.change_line_dates, ln.line_id, START, D(2027, 6, 1))
    refused(rules.DATES_CHILD_WITHIN_PARENT, c.change_entitlement_dates, ent.entitlement_id, START, D(2028, 1, 1))


def test_parent_date_change_refused_when_it_would_leave_a_child_outside():
    c = contract()
    ln = c.add_line(line(end=D(2027, 9, 30)), today=BEFORE)
    error = refused(rules.DATES_CHILD_WITHIN_PARENT, c.change_dates, START, D(2027, 6, 30))
    assert error.field == f"lines.{ln.line_id}"
    c.change_dates(START, D(2027, 9, 30))  # still holds the line


# -- Active: start frozen, end extended only; lines and sold products added or modified ---------

def test_active_start_date_frozen():
    c = active(line())
    refused(rules.ACTIVE_START_DATE_FROZEN, c.change_dates, D(2027, 1, 2), END)
    ln = list(c.lines)[0]
    refused(rules.ACTIVE_START_DATE_FROZEN, c.change_line_dates, ln, D(2027, 1, 2), END)


def test_active_end_date_extend_only():
    c = active()
    refused(rules.ACTIVE_END_DATE_EXTEND_ONLY, c.change_dates, START, D(2027, 12, 30))
    c.change_dates(START, D(2028, 6, 30))
    assert c.end_date == D(2028, 6, 30)


def test_active_contract_takes_new_lines_active_from_their_dates():
    c = active()
    now_line = c.add_line(line(start=D(2027, 2, 1)), today=D(2027, 2, 1))
    future_line = c.add_line(line(start=D(2027, 3, 1)), today=D(2027, 2, 1))
    assert (now_line.state, future_line.state) == ("active", "draft")
    refused(rules.DATES_END_BEFORE_TODAY, c.add_line, line(end=D(2027, 1, 31)), D(2027, 2, 1))


def test_active_children_cannot_be_removed():
    ln = line()
    c = active(ln, entitlements=[entitlement()])
    refused(rules.DRAFT_REMOVE_ONLY_IN_DRAFT, c.remove_line, ln.line_id)
    refused(rules.DRAFT_REMOVE_ONLY_IN_DRAFT, c.remove_entitlement, list(c.entitlements)[0])


# -- MACD on an active contract -------------------------------------------------------------

def test_macd_change_quantity_and_disconnect():
    ln = line()
    ent = entitlement(line_id=ln.line_id)
    c = active(ln, entitlements=[ent])
    c.change_line_quantity(ln.line_id, 5)
    c.disconnect_line(ln.line_id, D(2027, 6, 30), today=DURING)
    assert c.lines[ln.line_id].quantity == 5 and c.lines[ln.line_id].end_date == D(2027, 6, 30)
    assert c.entitlements[ent.entitlement_id].end_date == D(2027, 6, 30)  # stays within its line
    c.reach(D(2027, 7, 1))
    assert c.lines[ln.line_id].state == "expired" and c.state == "active"


def test_disconnect_only_active_lines_on_dates_from_today():
    c = active(line())
    ln = list(c.lines)[0]
    refused(rules.MACD_DISCONNECT_DATE, c.disconnect_line, ln, D(2027, 5, 31), DURING)
    refused(rules.MACD_DISCONNECT_DATE, c.disconnect_line, ln, END, DURING)
    draft_line = c.add_line(line(start=D(2027, 9, 1)), today=DURING)
    refused(rules.MACD_DISCONNECT_ONLY_ACTIVE, c.disconnect_line, draft_line.line_id, D(2027, 10, 1), DURING)


# -- Expired and Canceled are terminal ----------------------------------------------------------

@pytest.mark.parametrize("end_it", ["expire", "cancel"])
def test_terminal_refuses_every_further_change(end_it):
    ln = line()
    c = active(ln, entitlements=[entitlement()])
    c.reach(AFTER) if end_it == "expire" else c.cancel(DURING)
    ent = list(c.entitlements)[0]
    for call, args in [
        (c.change_dates, (START, D(2028, 6, 30))), (c.cancel, (DURING,)), (c.add_line, (line(), DURING)),
        (c.add_entitlement, (entitlement(), DURING)), (c.change_line_quantity, (ln.line_id, 3)),
        (c.edit_line, (ln.line_id,)), (c.change_line_dates, (ln.line_id, START, END)),
        (c.cancel_line, (ln.line_id, DURING)), (c.edit_entitlement, (ent,)), (c.remove_line, (ln.line_id,)),
        (c.disconnect_line, (ln.line_id, DURING, DURING)), (c.cancel_entitlement, (ent, DURING)),
    ]:
        refused(rules.STATE_TERMINAL, call, *args)


def test_cancel_cascades_to_open_children_only():
    ln, old = line(), line(end=D(2027, 3, 31))
    c = active(ln, old)
    c.reach(D(2027, 4, 1))
    c.cancel(DURING, reason="customer left")
    assert c.state == "canceled"
    assert (c.lines[ln.line_id].state, c.lines[old.line_id].state) == ("canceled", "expired")


def test_canceled_line_is_terminal():
    ln = line()
    c = active(ln)
    c.cancel_line(ln.line_id, DURING)
    refused(rules.STATE_TERMINAL, c.change_line_quantity, ln.line_id, 3)


# -- Suspended: following the sold product / install base item ----------------------------------

def sold(today=DURING) -> SoldProduct:
    return SoldProduct.record_new(uuid.uuid4(), account="ACME", product="CNC mill", quantity=1)


def test_suspending_a_sold_product_suspends_draft_and_active_items_covering_it():
    p = sold()
    covered, other = line(product_id=p.product_id), line()
    ent_via_line = entitlement(line_id=covered.line_id)
    ent_direct = entitlement(product_id=p.product_id)
    c = active(covered, other, entitlements=[ent_via_line, ent_direct])
    install_base.suspend(p, [c], DURING, reason="unpaid")
    assert p.state == "suspended"
    assert c.lines[covered.line_id].state == "suspended" and c.lines[other.line_id].state == "active"
    assert {c.entitlements[e.entitlement_id].state for e in (ent_via_line, ent_direct)} == {"suspended"}
    assert new_events(c) == [ContractLineSuspended, EntitlementSuspended, EntitlementSuspended]
    assert c.state == "active"  # a child never changes its parent


def test_terminal_items_are_not_suspended():
    p = sold()
    done = line(end=D(2027, 3, 31), product_id=p.product_id)
    c = active(done)
    c.reach(D(2027, 4, 1))
    install_base.suspend(p, [c], DURING)
    assert c.lines[done.line_id].state == "expired"


def test_while_suspended_only_field_edits_and_new_related_records():
    p = sold()
    ln = line(product_id=p.product_id)
    c = active(ln)
    install_base.suspend(p, [c], DURING)
    c.change_line_quantity(ln.line_id, 7)
    c.edit_line(ln.line_id, unit_price=Decimal("80"))
    ent = c.add_entitlement(entitlement(line_id=ln.line_id), today=DURING)
    assert ent.state == "suspended"  # created related record takes the state of what it covers
    for call, args in [
        (c.change_line_dates, (ln.line_id, START, D(2028, 1, 1))),
        (c.disconnect_line, (ln.line_id, D(2027, 7, 1), DURING)),
        (c.change_line_coverage, (ln.line_id, None, None, DURING)),
        (c.change_entitlement_dates, (ent.entitlement_id, START, END)),
        (c.cancel_line, (ln.line_id, DURING)),
        (c.cancel_entitlement, (ent.entitlement_id, DURING)),
    ]:
        refused(rules.SUSPENDED_ONLY_FIELD_EDITS, call, *args)
    assert c.pending_events[-1].event_type == "EntitlementAdded"  # the refusals recorded nothing
    # tests/unit/test_command_state_matrix.py checks every command against every state


def test_canceling_the_contract_cancels_its_suspended_children_too():
    """The contract is never Suspended: its formal cancellation ends what is under it, as its expiry does."""
    p = sold()
    ln = line(product_id=p.product_id)
    c = active(ln, entitlements=[entitlement(line_id=ln.line_id)])
    install_base.suspend(p, [c], DURING)
    c.cancel(DURING)
    assert c.state == "canceled" and {i.state for i in c.items()} == {"canceled"}


@pytest.mark.parametrize("end_it,rule", [("suspend", rules.SUSPENDED_ONLY_FIELD_EDITS), ("cancel", rules.STATE_TERMINAL)])
def test_a_draft_line_is_removed_only_if_its_entitlements_could_be_removed_themselves(end_it, rule):
    """Its entitlements go with it: a Suspended or Canceled one must not disappear that way."""
    p = sold()
    ln = line()
    ent = entitlement(line_id=ln.line_id, product_id=p.product_id)
    c = contract([ln], [ent])
    install_base.suspend(p, [c], BEFORE) if end_it == "suspend" else c.cancel_entitlement(ent.entitlement_id, BEFORE)
    c.mark_persisted()
    error = refused(rule, c.remove_line, ln.line_id)
    assert error.field == f"entitlements.{ent.entitlement_id}" and c.pending_events == []


@pytest.mark.parametrize("ent_end,shortened", [(END, True), (D(2027, 8, 31), False)])
def test_disconnecting_a_line_refused_when_it_would_shorten_a_suspended_entitlement(ent_end, shortened):
    p = sold()
    ln = line()
    held = entitlement(end=ent_end, line_id=ln.line_id, product_id=p.product_id)
    c = active(ln, entitlements=[held])
    install_base.suspend(p, [c], DURING)
    c.mark_persisted()
    if shortened:
        error = refused(rules.SUSPENDED_ONLY_FIELD_EDITS, c.disconnect_line, ln.line_id, D(2027, 9, 30), DURING)
        assert error.field == f"entitlements.{held.entitlement_id}" and c.pending_events == []
    else:
        c.disconnect_line(ln.line_id, D(2027, 9, 30), DURING)
        assert c.entitlements[held.entitlement_id].end_date == ent_end


@pytest.mark.parametrize("today,expected", [(DURING, "active"), (AFTER, "expired")])
def test_resuming_gives_each_item_the_state_its_dates_say(today, expected):
    p = sold()
    ln = line(product_id=p.product_id)
    c = active(ln, entitlements=[entitlement(line_id=ln.line_id)])
    install_base.suspend(p, [c], D(2027, 2, 1))
    new_events(c)
    install_base.resume(p, [c], today, still_suspended=set())
    assert p.state == "active"
    assert {i.state for i in c.items()} == {expected}
    assert new_events(c) == [ContractLineResumed, EntitlementResumed]


def test_resuming_before_the_start_date_gives_draft():
    p = sold()
    ln = line(start=D(2027, 9, 1), product_id=p.product_id)
    c = active(ln)
    install_base.suspend(p, [c], DURING)
    install_base.resume(p, [c], D(2027, 7, 1), still_suspended=set())
    assert c.lines[ln.line_id].state == "draft"


def test_suspended_item_expires_when_its_end_date_passes():
    p = sold()
    ln = line(end=D(2027, 6, 30), product_id=p.product_id)
    c = active(ln)
    install_base.suspend(p, [c], D(2027, 3, 1))
    c.reach(D(2027, 7, 1))
    assert c.lines[ln.line_id].state == "expired"


def test_item_stays_suspended_while_another_product_it_covers_is_suspended():
    p = sold()
    item = InstallBaseItem.record_new(uuid.uuid4(), account="ACME", name="mill #1", site="Plant 4")
    ln = line(product_id=p.product_id, item_id=item.product_id)
    c = active(ln)
    install_base.suspend(p, [c], DURING)
    install_base.suspend(item, [c], DURING)
    install_base.resume(p, [c], DURING, still_suspended={item.product_id})
    assert c.lines[ln.line_id].state == "suspended"
    install_base.resume(item, [c], DURING, still_suspended=set())
    assert c.lines[ln.line_id].state == "active"


def test_new_line_covering_a_suspended_product_starts_suspended():
    p = sold()
    p.suspend(DURING)
    c = active()
    ln = c.add_line(line(product_id=p.product_id), today=DURING, suspended={p.product_id})
    assert ln.state == "suspended"
    drafted = contract([line(product_id=p.product_id)], suspended={p.product_id})
    assert [i.state for i in drafted.items()] == ["suspended"]


def test_pointing_a_line_at_a_suspended_product_suspends_it_and_its_entitlements():
    p = sold()
    ln = line()
    c = active(ln, entitlements=[entitlement(line_id=ln.line_id)])
    c.change_line_coverage(ln.line_id, p.product_id, None, DURING, suspended={p.product_id})
    assert {i.state for i in c.items()} == {"suspended"}


def test_product_suspend_and_resume_only_from_the_other_state():
    p = sold()
    refused(rules.PRODUCT_NOT_SUSPENDED, p.resume, DURING)
    p.suspend(DURING)
    refused(rules.PRODUCT_ALREADY_SUSPENDED, p.suspend, DURING)


def test_install_base_item_moves_to_another_site():
    item = InstallBaseItem.record_new(uuid.uuid4(), account="ACME", name="mill #1", site="Plant 4")
    item.move("Plant 7")
    assert item.site == "Plant 7" and item.pending_events[-1].event_type == "InstallBaseItemMoved"


def test_history_rebuilds_the_same_state():
    p = sold()
    ln = line(product_id=p.product_id)
    c = contract([ln], [entitlement(line_id=ln.line_id)])
    history = list(c.pending_events)
    c.mark_persisted()
    c.reach(START)
    install_base.suspend(p, [c], DURING)
    c.change_line_quantity(ln.line_id, 4)
    install_base.resume(p, [c], DURING, set())
    c.reach(AFTER)
    history += c.pending_events
    loaded = ServiceContract.rehydrate(c.id, history)
    assert loaded.state == c.state and loaded.lines == c.lines and loaded.entitlements == c.entitlements
