"""Amendments and renewal successors (phase 7, clm): what a linked request is prefilled with, the
dates a successor starts and ends on, which parents may be amended or renewed, and the use cases'
retries (an amendment by its id, a renewal by its predecessor: one live successor); and the
projection's terms in force on a day."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError, RuleKind
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.contract_links import ContractLinked
from shared.events.contracts import ContractRequested, RequestedAccount, RequestTerms
from shared.events.renewal_terms import ContractPeriod
from services.clm.adapters.memory_views import MemoryViews
from services.clm.application import contract_links
from services.clm.domain import rules
from services.clm.domain.contract import Contract, ContractState
from services.clm.domain.contract.readiness import CatalogueCopy
from services.clm.domain.contract.links import term_months
from services.projection.domain.terms_in_force import NEGOTIATED_FIELDS, terms_in_force
from tests.activation_story import END, GOLD, START, executed_contract

AT = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
D = dt.date


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value


def test_an_amendment_is_a_draft_request_with_its_parents_terms_then_the_link():
    parent = executed_contract()
    amendment_id = uuid.uuid4()
    amendment = Contract.amendment_of(parent, amendment_id, effective_date=D(2028, 1, 1), title=None, by="sales-ann", at=AT)
    requested, linked = amendment.pending_events[:2]
    assert isinstance(requested, ContractRequested) and requested.state == "draft"
    assert linked == ContractLinked(contract_id=amendment_id, relation="amendment", parent_id=parent.contract_uuid,
                                    effective_date=D(2028, 1, 1), linked_by="sales-ann", at=AT)
    terms = amendment.request_terms
    assert terms.title == f"Amendment to {parent.request_terms.title}"
    assert (terms.account, terms.currency, terms.lines) == (parent.request_terms.account, parent.request_terms.currency,
                                                            parent.request_terms.lines)
    assert amendment.classification == parent.classification  # the same deal, the same rules
    assert Contract.rehydrate(amendment.id, amendment.pending_events).link == linked


@pytest.mark.parametrize("effective", [START, END])
def test_an_amendment_takes_effect_on_any_day_of_its_parents_dates(effective):
    amendment = Contract.amendment_of(executed_contract(), uuid.uuid4(), effective_date=effective, title="Price change",
                                      by="cm-max", at=AT)
    assert (amendment.link.effective_date, amendment.request_terms.title) == (effective, "Price change")


@pytest.mark.parametrize("effective", [START - dt.timedelta(days=1), END + dt.timedelta(days=1)])
def test_an_amendment_outside_its_parents_dates_is_refused(effective):
    error = refusal(lambda: Contract.amendment_of(executed_contract(), uuid.uuid4(), effective_date=effective, title=None,
                                                  by="cm-max", at=AT))
    assert (error.rule, error.kind, error.field) == (rules.LINK_EFFECTIVE_DATE_OUTSIDE_TERM, RuleKind.INVALID, "effective_date")


def _request() -> Contract:
    terms = RequestTerms(title="Robot fleet", account=RequestedAccount(name="ACME"), currency="EUR", term_months=12)
    return Contract.request(uuid.uuid4(), terms, by="ann", at=AT)


def _hand_drafted() -> Contract:
    return executed_contract().__class__.draft(
        uuid.uuid4(), number="CNT-1", title="By hand", contract_model="service_contract",
        parties=[executed_contract().terms.parties[1]], start_date=START, end_date=END)


@pytest.mark.parametrize("parent,rule", [
    pytest.param(_request, rules.LINK_PARENT_NOT_EXECUTED, id="request in draft"),
    pytest.param(_hand_drafted, rules.REQUEST_NOT_A_REQUEST, id="drafted without a request"),
])
@pytest.mark.parametrize("link", ["amendment", "successor"])
def test_only_an_executed_or_active_request_is_amended_or_renewed(parent, rule, link):
    contract = parent()
    contract.mark_persisted()
    if link == "amendment":
        error = refusal(lambda: Contract.amendment_of(contract, uuid.uuid4(), effective_date=START, title=None, by="x", at=AT))
    else:
        error = refusal(lambda: Contract.successor_of(contract, uuid.uuid4(), by="x", at=AT))
    assert (error.rule, error.kind) == (rule, RuleKind.CONFLICT)
    assert contract.pending_events == []


def test_an_active_contract_is_amended_and_renewed_too():
    parent = executed_contract()
    catalogue = {sku: CatalogueCopy(sku, 1, sku, GOLD) for sku in ("SUP-PREM", "ONSITE")}
    parent.start_reached(catalogue, at=AT, by="clm.activation")
    assert parent.state is ContractState.ACTIVE
    assert Contract.successor_of(parent, uuid.uuid4(), by="x", at=AT).link.relation == "successor"
    assert Contract.amendment_of(parent, uuid.uuid4(), effective_date=END, title=None, by="x", at=AT).link.relation == "amendment"


def test_an_amendment_is_not_amended_itself():
    amendment = Contract.amendment_of(executed_contract(), uuid.uuid4(), effective_date=START, title=None, by="x", at=AT)
    amendment.executed = executed_contract().executed  # as if signed
    error = refusal(lambda: Contract.amendment_of(amendment, uuid.uuid4(), effective_date=START, title=None, by="x", at=AT))
    assert error.rule == rules.LINK_AMEND_THE_PARENT


def test_a_successor_starts_the_day_after_its_predecessor_ends_for_the_same_term_with_its_lines_moved():
    predecessor = executed_contract()  # 2027-01-01..2029-12-31, 36 months; SUP-PREM dated, ONSITE not
    successor_id = uuid.uuid4()
    successor = Contract.successor_of(predecessor, successor_id, by="sales-ann", at=AT)
    terms = successor.request_terms
    assert (terms.desired_start_date, terms.term_months) == (D(2030, 1, 1), 36)
    dated, undated = terms.lines
    assert (dated.start_date, dated.end_date) == (D(2030, 1, 1), D(2032, 12, 31))
    assert (undated.start_date, undated.end_date) == (None, None)
    old = predecessor.request_terms.lines
    assert [(line.sku, line.quantity, line.net_amount) for line in terms.lines] == [(line.sku, line.quantity, line.net_amount)
                                                                                    for line in old]
    assert {line.line_id for line in terms.lines}.isdisjoint({line.line_id for line in old})
    again = Contract.successor_of(predecessor, successor_id, by="sales-ann", at=AT)
    assert again.same_request(successor) and again.same_link(successor)  # the same id gives the same request
    assert successor.link.effective_date == D(2030, 1, 1)


def test_a_successor_follows_the_current_renewal_period_when_there_is_one():
    predecessor = executed_contract()
    predecessor.current_period = ContractPeriod(number=2, start_date=D(2030, 1, 1), end_date=D(2032, 12, 31),
                                                notice_deadline=D(2032, 10, 2), cancel_by=D(2032, 9, 2))
    assert Contract.successor_of(predecessor, uuid.uuid4(), by="x", at=AT).request_terms.desired_start_date == D(2033, 1, 1)


@pytest.mark.parametrize("start,end,months", [
    (D(2027, 1, 31), D(2027, 4, 29), 3),  # 31 Jan + 3 months is 30 Apr: the next term starts then
    (D(2027, 1, 31), D(2027, 4, 30), None),
    (D(2028, 2, 29), D(2029, 2, 27), 12),  # a leap day: 29 Feb + 12 months is 28 Feb
    (D(2027, 1, 1), D(2027, 12, 31), 12),
    (D(2027, 1, 1), D(2027, 1, 30), None),  # not a whole month
    (D(2027, 1, 15), D(2028, 1, 15), None),  # a day more than a year
])
def test_the_term_in_whole_months(start, end, months):
    assert term_months(start, end) == months


# -- the use cases: retries and the one live successor ---------------------------------------------

@pytest.fixture
def new_uow():
    store = MemoryEventStore()
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def _stored(new_uow, contract: Contract) -> Contract:
    async with new_uow() as uow:
        uow.add(contract)
        await uow.commit()
    return contract


async def test_an_amendment_retried_with_its_id_answers_it_and_other_terms_are_refused(new_uow):
    parent = await _stored(new_uow, executed_contract())
    amendment_id = uuid.uuid4()
    first, created = await contract_links.amend(new_uow(), parent.contract_uuid, amendment_id, effective_date=D(2028, 1, 1),
                                                title=None, by="ann", at=AT)
    again, again_created = await contract_links.amend(new_uow(), parent.contract_uuid, amendment_id,
                                                      effective_date=D(2028, 1, 1), title=None, by="ann", at=AT)
    assert (created, again_created, again.version) == (True, False, first.version)
    with pytest.raises(DomainError) as raised:
        await contract_links.amend(new_uow(), parent.contract_uuid, amendment_id, effective_date=D(2028, 2, 1), title=None,
                                   by="ann", at=AT)
    assert raised.value.rule == "contract.already_exists"
    links = await contract_links.links_of(new_uow(), parent.contract_uuid)
    assert [c.contract_uuid for c in links.amendments] == [amendment_id]
    assert (await contract_links.links_of(new_uow(), amendment_id)).parent.contract_uuid == parent.contract_uuid


async def test_a_predecessor_has_one_live_successor_until_it_is_cancelled(new_uow):
    predecessor = await _stored(new_uow, executed_contract())
    pid = predecessor.contract_uuid
    first, created = await contract_links.renew(new_uow(), pid, uuid.uuid4(), by="ann", at=AT)
    second, second_created = await contract_links.renew(new_uow(), pid, uuid.uuid4(), by="cm", at=AT)
    assert (created, second_created, second.contract_uuid) == (True, False, first.contract_uuid)
    async with new_uow() as uow:
        successor = await uow.get(Contract, first.id)
        successor.cancel(reason="wrong account", by="ann", at=AT)
        await uow.commit()
    third, third_created = await contract_links.renew(new_uow(), pid, uuid.uuid4(), by="ann", at=AT)
    assert third_created and third.contract_uuid != first.contract_uuid
    links = await contract_links.links_of(new_uow(), pid)
    assert (links.successor.contract_uuid, links.parent, links.predecessor) == (third.contract_uuid, None, None)
    assert (await contract_links.links_of(new_uow(), third.contract_uuid)).predecessor.contract_uuid == pid


# -- the terms in force on a day (projection) -------------------------------------------------------

PARENT, FIRST, SECOND, UNSIGNED = (uuid.uuid5(uuid.NAMESPACE_URL, n) for n in ("parent", "first", "second", "unsigned"))


def _row(contract_id, effective_date=None, in_force=True, **terms):
    values = dict.fromkeys(NEGOTIATED_FIELDS) | terms
    return {"contract_id": contract_id, "effective_date": effective_date, "in_force": in_force, **values}


def _parent():
    return _row(PARENT, start_date=START, end_date=END, time_zone="Europe/Berlin", liability_cap=Decimal("1000000"),
                liability_cap_currency="EUR", payment_days=30, auto_renewal=True, governing_law="DE")


AMENDMENTS = [
    _row(SECOND, D(2028, 1, 1), payment_days=60, governing_law="CH"),
    _row(FIRST, D(2027, 7, 1), payment_days=45, liability_cap=Decimal("2000000")),
    _row(UNSIGNED, D(2027, 2, 1), in_force=False, payment_days=10),
]


@pytest.mark.parametrize("as_of,applied,expected", [
    (D(2027, 6, 30), [], {"payment_days": (30, PARENT), "liability_cap": (Decimal("1000000"), PARENT)}),
    (D(2027, 7, 1), [FIRST], {"payment_days": (45, FIRST), "liability_cap": (Decimal("2000000"), FIRST),
                              "governing_law": ("DE", PARENT)}),
    (D(2028, 1, 1), [FIRST, SECOND], {"payment_days": (60, SECOND), "liability_cap": (Decimal("2000000"), FIRST),
                                      "governing_law": ("CH", SECOND), "auto_renewal": (True, PARENT),
                                      "end_date": (END, PARENT)}),
])
def test_the_terms_in_force_apply_each_signed_amendment_from_its_effective_date_field_by_field(as_of, applied, expected):
    terms, used = terms_in_force(_parent(), AMENDMENTS, as_of)
    assert used == applied
    assert {name: terms[name] for name in expected} == expected
    assert set(terms) == {"start_date", "end_date", "time_zone", *NEGOTIATED_FIELDS}


def test_the_end_in_force_on_a_day_is_the_end_the_contract_had_then():
    from services.projection.domain.terms_in_force import end_in_force

    renewed = [(dt.date(2029, 12, 31), dt.date(2032, 12, 31)), (dt.date(2027, 12, 31), dt.date(2029, 12, 31))]
    current = dt.date(2035, 12, 31)
    assert end_in_force(current, renewed, dt.date(2027, 6, 1)) == dt.date(2027, 12, 31)
    assert end_in_force(current, renewed, dt.date(2027, 12, 31)) == dt.date(2027, 12, 31)
    assert end_in_force(current, renewed, dt.date(2028, 1, 1)) == dt.date(2029, 12, 31)
    assert end_in_force(current, renewed, dt.date(2030, 1, 1)) == current
    assert end_in_force(current, [], dt.date(2020, 1, 1)) == current
