"""Activation of an executed contract (phase 6, clm): the order-readiness rules, what
ContractActivated v1 and v2 carry and in which order, blocking once per distinct list of missing
items, retry when the catalogue copy changes, and hand activation."""

import datetime as dt
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError, RuleKind
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.activation import ActivationBlocked, ContractActivatedV2
from shared.events.contract_starts import ContractStartReached
from shared.events.contracts import ContractActivated, ContractRequestStateChanged
from shared.events.envelope import Envelope
from shared.events.renewal_terms import RenewalTermsSet
from services.clm.adapters.memory_views import MemoryViews
from services.clm.application import activation
from services.clm.domain import rules
from services.clm.domain.contract import Contract
from services.clm.domain.contract.readiness import CatalogueCopy
from tests.activation_story import AT, END, GOLD, ONSITE, SIGNED, START, executed_contract, published, retired
from tests.events_factory import approved_quote

MAPPED = {"SUP-PREM": CatalogueCopy("SUP-PREM", 1, "Premium support", GOLD),
          "ONSITE": CatalogueCopy("ONSITE", 1, "Onsite service", ONSITE)}


def fresh(contract: Contract) -> Contract:
    return Contract.rehydrate(contract.id, contract.pending_events)


def test_every_sku_without_a_catalogue_mapping_is_listed_and_a_retired_one_named_as_such():
    contract = fresh(executed_contract())
    missing = contract.missing_for_activation({"SUP-PREM": CatalogueCopy("SUP-PREM", 2, "x", GOLD, retired=True)})
    assert [(m.item, m.rule) for m in missing] == [
        ("SUP-PREM", rules.ACTIVATION_SKU_RETIRED), ("ONSITE", rules.ACTIVATION_SKU_NOT_IN_CATALOGUE)]
    assert contract.missing_for_activation(MAPPED) == []


def test_a_request_without_the_crm_account_or_currency_or_with_a_line_outside_the_contract_is_not_ready():
    quote = approved_quote()
    quote = quote.model_copy(update={
        "account": quote.account.model_copy(update={"account_id": "ACC-1"}),
        "lines": [quote.lines[0].model_copy(update={"end_date": dt.date(2030, 6, 30)}), quote.lines[1]]})
    contract = fresh(executed_contract(quote))
    contract.request_terms = contract.request_terms.model_copy(update={
        "currency": None, "account": contract.request_terms.account.model_copy(update={"account_id": None})})
    assert [(m.item, m.rule) for m in contract.missing_for_activation(MAPPED)] == [
        ("account.account_id", rules.ACTIVATION_ACCOUNT_MISSING), ("currency", rules.ACTIVATION_CURRENCY_MISSING),
        ("lines[0].dates", rules.ACTIVATION_LINE_DATES)]


def test_the_start_date_activates_a_ready_contract_v1_then_v2_with_its_key_terms_and_closes_the_request():
    contract = fresh(executed_contract())
    contract.start_reached(MAPPED, at=AT, by="clm.activation")

    v1, v2, closed, renewal = contract.pending_events
    assert isinstance(v1, ContractActivated) and isinstance(v2, ContractActivatedV2)
    assert v1.model_dump() == {**contract.terms.model_dump()}  # exactly as today's activation publishes it
    assert v2.model_dump(include=set(v1.model_dump())) == v1.model_dump()
    assert (v2.account_id, v2.currency, v2.executed_version, v2.signed_document_sha256) == ("ACC-77", "EUR", 1, SIGNED.sha256)
    assert v2.quote_id == contract.requested.quote_id and v2.activated_at == AT
    premium, onsite = v2.lines
    assert (premium.sku, premium.quantity, premium.unit_price, premium.discount_percent, premium.net_amount) == (
        "SUP-PREM", Decimal(2), Decimal("1200.00"), Decimal(10), Decimal("2160.00"))
    assert (onsite.start_date, onsite.end_date) == (START, END)  # a line without dates takes the contract's
    [gold, repair] = v2.entitlements
    assert (gold.line_id, gold.support_level, gold.sla, gold.features) == (
        premium.line_id, "gold", "4h response", ["hotline", "remote-diagnosis"])
    assert (gold.usage_limit, gold.usage_unit) == (20, "incidents")  # 10 per unit, 2 units
    assert (repair.line_id, repair.usage_limit, repair.start_date) == (onsite.line_id, None, START)
    assert (v2.renewal.auto_renewal, v2.renewal.renewal_term_months) == (True, 36)
    assert isinstance(closed, ContractRequestStateChanged)
    assert (closed.from_state, closed.to_state, closed.by) == ("contract_signed", "closed_complete", "clm.activation")
    assert contract.state == "active" and contract.request_state == "closed_complete"
    # nobody set renewal terms: derived from the executed ones (auto-renewal negotiated: tacit)
    assert isinstance(renewal, RenewalTermsSet) and renewal.origin == "executed_terms"
    assert (renewal.terms.renewal, renewal.terms.renewal_term, renewal.terms.notice_period) == ("tacit", "P36M", "P0D")
    assert (renewal.start_date, renewal.period.number, renewal.period.end_date) == (START, 1, END)

    contract.start_reached(MAPPED, at=AT, by="clm.activation")  # the start again: nothing more
    assert len(contract.pending_events) == 4


def test_a_blocked_contract_is_blocked_once_per_distinct_list_of_missing_items():
    contract = fresh(executed_contract())
    contract.start_reached({}, at=AT, by="clm.activation")
    contract.start_reached({}, at=AT, by="clm.activation")  # redelivered, or nothing changed
    [blocked] = contract.pending_events
    assert isinstance(blocked, ActivationBlocked) and [m.item for m in blocked.missing] == ["SUP-PREM", "ONSITE"]

    contract.start_reached({"SUP-PREM": MAPPED["SUP-PREM"]}, at=AT, by="clm.activation")
    assert [m.item for m in contract.pending_events[-1].missing] == ["ONSITE"]
    contract.start_reached(MAPPED, at=AT, by="clm.activation")
    assert [type(e) for e in contract.pending_events[-4:]] == [ContractActivated, ContractActivatedV2,
                                                               ContractRequestStateChanged, RenewalTermsSet]


def test_a_contract_that_is_not_executed_waits_for_its_signature():
    contract = executed_contract()
    events = [e for e in contract.pending_events if type(e).__name__ != "ContractExecuted"]
    unsigned = Contract.rehydrate(contract.id, events)
    unsigned.start_reached(MAPPED, at=AT, by="clm.activation")
    assert unsigned.pending_events == []
    with pytest.raises(DomainError) as refused:
        unsigned.activate(AT, today=START, catalogue=MAPPED)
    assert (refused.value.rule, refused.value.kind) == (rules.ACTIVATION_NOT_EXECUTED, RuleKind.CONFLICT)


def test_by_hand_an_executed_contract_activates_once_its_start_date_came_and_it_is_ready():
    contract = fresh(executed_contract())
    with pytest.raises(DomainError) as early:
        contract.activate(AT, today=START - dt.timedelta(days=1), catalogue=MAPPED)
    assert early.value.rule == rules.ACTIVATION_BEFORE_START
    with pytest.raises(DomainError) as not_ready:
        contract.activate(AT, today=START, catalogue={})
    assert not_ready.value.rule == rules.ACTIVATION_NOT_READY
    assert [m["item"] for m in not_ready.value.extra["missing"]] == ["SUP-PREM", "ONSITE"]
    assert contract.pending_events == []
    contract.activate(AT, today=START, catalogue=MAPPED, by="cm-max")
    assert [type(e) for e in contract.pending_events] == [ContractActivated, ContractActivatedV2,
                                                          ContractRequestStateChanged, RenewalTermsSet]


# -- the use cases, on the in-memory unit of work and views ----------------------------------------

@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def handle(new_uow, handler, event, version: int = 1) -> None:
    async with new_uow() as uow:
        await handler(uow, Envelope(event, version))
        await uow.commit()


async def stored(new_uow, contract_id) -> Contract:
    async with new_uow() as uow:
        return await uow.require(Contract, str(contract_id), "contract")


async def test_a_contract_blocked_on_a_sku_is_activated_when_the_catalogue_copy_maps_it(new_uow, store):
    contract = executed_contract()
    async with new_uow() as uow:
        uow.add(contract)
        await uow.commit()
    await handle(new_uow, activation.copy_catalogue_entry, published("SUP-PREM"))
    start = ContractStartReached(contract_id=contract.contract_uuid, start_date=START, time_zone="Europe/Berlin", reached_at=AT)
    await handle(new_uow, activation.start_contract, start)
    await handle(new_uow, activation.start_contract, start)  # redelivered: still one block
    blocked = await stored(new_uow, contract.contract_uuid)
    assert [m.item for m in blocked.blocked.missing] == ["ONSITE"] and blocked.state == "draft"
    types = [type(r.event).__name__ for r in store.events]
    assert types.count("ActivationBlocked") == 1

    await handle(new_uow, activation.copy_catalogue_entry, published("OTHER"))  # nobody waits on it
    assert len(store.events) == len(types)
    await handle(new_uow, activation.copy_catalogue_entry, published("ONSITE", ONSITE))
    active = await stored(new_uow, contract.contract_uuid)
    assert active.state == "active" and active.activated.entitlements[-1].name == "onsite-repair"
    async with new_uow() as uow:
        assert await uow.views.catalogue.waiting_on("ONSITE") == []
        assert uow.table("contract_requests")[contract.contract_uuid]["state"] == "closed_complete"


async def test_the_copy_keeps_the_newest_version_and_a_retired_sku_blocks_again(new_uow):
    await handle(new_uow, activation.copy_catalogue_entry, published("SUP-PREM", version=2, product="Premium v2"))
    await handle(new_uow, activation.copy_catalogue_entry, published("SUP-PREM", version=1))  # late, older
    await handle(new_uow, activation.copy_catalogue_entry, retired("SUP-PREM", version=3))
    async with new_uow() as uow:
        copy = (await uow.views.catalogue.entries({"SUP-PREM"}))["SUP-PREM"]
    assert (copy.version, copy.product, copy.retired, copy.entitlements) == (3, "Premium v2", True, GOLD)
