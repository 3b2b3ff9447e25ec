"""The inventory's use cases (services/asset_coverage/application/registry.py) on the in-memory unit
of work with its query tables: assets and vendor contracts registered once by their natural keys,
revised only when something changed, the rules of revisions by state, finance's costs, the
lifecycle driven by the scheduler's dates and by contracting's events, and the lists."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.assets import AssetDetails
from shared.events.contracts import ContractActivated, Party
from shared.events.coverage import Costs, OperationalTerms, ServiceLevel, VendorContractTerms
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired
from shared.events.operational_dates import OperationalContractEndReached, OperationalContractStartReached
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application import following, registry
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.operational_contract.terms import vendor_contract_id

D = dt.date
ROBOT = AssetDetails(kind="robot", name="KUKA KR 210, cell 7", model="KR 210", site="Plant 4", criticality="critical",
                     owner="ot-maria")
TERMS = VendorContractTerms(number="VC-1", vendor="KUKA Service GmbH", vendor_contract_number="KS-118",
                            name="Robot maintenance", customer="ACME", contract_model="maintenance",
                            start_date=D(2027, 1, 1), end_date=D(2027, 12, 31), time_zone="Europe/Berlin")
OPS = OperationalTerms(sla=ServiceLevel(response_hours=Decimal("4")), owners=["ot-maria"],
                       costs=Costs(currency="EUR", payment_amount=Decimal("1200.00")))


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


def types(store, stream_id) -> list[str]:
    return [type(r.event).__name__ for r in store.read_stream(str(stream_id))]


def refused(excinfo, rule: str, field: str | None = None) -> None:
    assert excinfo.value.rule == rule and (field is None or excinfo.value.field == field), excinfo.value


async def deliver(uow, handler, event, version: int = 1) -> None:
    async with uow() as u:
        await handler(u, Envelope(event, stream_version=version))
        await u.commit()


async def test_an_asset_is_registered_once_revised_when_changed_and_left_alone_when_not(uow, store):
    assert (await registry.register_asset(uow(), "ROB-7", ROBOT))[1] == "created"
    assert (await registry.register_asset(uow(), "ROB-7", ROBOT))[1] == "unchanged"
    asset, outcome = await registry.register_asset(uow(), "ROB-7", ROBOT.model_copy(update={"site": "Plant 5"}))
    assert outcome == "updated" and asset.details.site == "Plant 5" and asset.version == 2
    assert types(store, "ROB-7") == ["AssetRegistered", "AssetRevised"]
    assert store.events[-1].event.changed == ["site"]
    rows = await registry.list_assets(uow(), site="Plant 5")
    assert [(r.asset_id, r.site, r.version, r.covered) for r in rows] == [("ROB-7", "Plant 5", 2, False)]


async def test_an_asset_id_outside_the_pattern_is_refused_naming_the_field(uow, store):
    with pytest.raises(DomainError) as bad:
        await registry.register_asset(uow(), "robot 7", ROBOT)
    refused(bad, rules.ASSET_ID_INVALID, "asset_id")
    assert store.events == []


async def test_assets_filter_and_page_by_id(uow):
    for i in range(5):
        await registry.register_asset(uow(), f"ROB-{i}", ROBOT)
    await registry.register_asset(uow(), "PLC-1", AssetDetails(kind="plc", name="S7", site="Plant 4"))
    await registry.register_asset(uow(), "ROB-9", ROBOT.model_copy(update={"site": "Plant 1"}))
    first = await registry.list_assets(uow(), kind="robot", site="Plant 4", limit=3)
    rest = await registry.list_assets(uow(), kind="robot", site="Plant 4", after=first[-1].asset_id, limit=3)
    assert [r.asset_id for r in first + rest] == [f"ROB-{i}" for i in range(5)]
    assert [r.asset_id for r in await registry.list_assets(uow(), criticality="medium")] == ["PLC-1"]


async def test_the_in_transaction_variants_commit_with_their_caller_or_not_at_all(uow, store):
    async with uow() as u:
        await registry.register_asset_in(u, "ROB-1", ROBOT)
        await registry.register_vendor_contract_in(u, TERMS, OPS)
    assert store.events == [] and await registry.list_assets(uow()) == []  # no commit: nothing kept, not indexed
    async with uow() as u:
        await registry.register_asset_in(u, "ROB-1", ROBOT)
        _, outcome = await registry.register_vendor_contract_in(u, TERMS, OPS)
        await following.commit(u)  # what a caller of the _in commands commits through (the import does)
    assert outcome == "created" and len(store.events) == 2
    assert [r.asset_id for r in await registry.list_assets(uow())] == ["ROB-1"]
    assert [r.vendor_contract_number for r in await registry.list_contracts(uow())] == ["KS-118"]


async def test_a_vendor_contract_is_found_by_its_natural_key_whatever_the_vendors_case(uow, store):
    contract, outcome = await registry.register_vendor_contract(uow(), TERMS, OPS)
    assert outcome == "created" and contract.state == "draft" and contract.origin == "operations"
    assert contract.id == str(vendor_contract_id("  kuka service  gmbh", "KS-118"))
    again = TERMS.model_copy(update={"vendor": "KUKA SERVICE GMBH"})
    assert (await registry.register_vendor_contract(uow(), TERMS, OPS))[1] == "unchanged"
    _, outcome = await registry.register_vendor_contract(uow(), again.model_copy(update={"name": "Robot care"}), OPS)
    assert outcome == "updated"
    _, outcome = await registry.register_vendor_contract(uow(), again.model_copy(update={"name": "Robot care"}),
                                                         OPS.model_copy(update={"owners": ["ot-jan"]}))
    assert outcome == "updated"
    assert types(store, contract.id) == ["VendorContractRegistered", "VendorContractRevised", "OperationalTermsSet"]
    assert store.events[1].event.changed == ["vendor", "name"] and store.events[2].event.changed == ["owners"]


async def test_bad_dates_zone_or_predecessor_are_refused(uow, store):
    with pytest.raises(DomainError) as zone:
        await registry.register_vendor_contract(uow(), TERMS.model_copy(update={"time_zone": "Mars/Olympus"}), OPS)
    refused(zone, rules.TIME_ZONE_UNKNOWN, "time_zone")
    with pytest.raises(DomainError) as far:
        await registry.register_vendor_contract(uow(), TERMS.model_copy(update={"end_date": D(9999, 12, 31)}), OPS)
    refused(far, rules.DATES_OUT_OF_RANGE, "end_date")
    with pytest.raises(DomainError) as unknown:
        await registry.register_vendor_contract(uow(), TERMS, OPS, predecessor_id=uuid.uuid4())
    refused(unknown, rules.PREDECESSOR_UNKNOWN, "predecessor_id")
    assert store.events == []


async def test_a_draft_changes_freely_an_active_one_keeps_its_start_and_only_extends(uow, store):
    contract, _ = await registry.register_vendor_contract(uow(), TERMS, OPS)
    cid = uuid.UUID(contract.id)
    _, outcome = await registry.change_terms(uow(), cid, {"start_date": D(2027, 2, 1), "end_date": D(2027, 11, 30)})
    assert outcome == "updated"
    with pytest.raises(DomainError) as key:
        await registry.change_terms(uow(), cid, {"vendor_contract_number": "KS-999"})
    refused(key, rules.NATURAL_KEY_FIXED, "vendor_contract_number")
    with pytest.raises(DomainError) as backwards:
        await registry.change_terms(uow(), cid, {"end_date": D(2027, 1, 1)})
    refused(backwards, rules.DATES_END_BEFORE_START, "end_date")
    await deliver(uow, registry.start_reached, OperationalContractStartReached(
        contract_id=cid, start_date=D(2027, 2, 1), time_zone="Europe/Berlin",
        reached_at=dt.datetime(2027, 1, 31, 23, tzinfo=dt.UTC)))
    assert (await registry.get_contract(uow(), cid)).state == "active"
    with pytest.raises(DomainError) as frozen:
        await registry.change_terms(uow(), cid, {"start_date": D(2027, 3, 1)})
    refused(frozen, rules.ACTIVE_START_DATE_FROZEN, "start_date")
    with pytest.raises(DomainError) as shorter:
        await registry.change_terms(uow(), cid, {"end_date": D(2027, 10, 31)})
    refused(shorter, rules.ACTIVE_END_DATE_EXTEND_ONLY, "end_date")
    contract, _ = await registry.change_terms(uow(), cid, {"end_date": D(2028, 12, 31)})
    assert contract.end_date == D(2028, 12, 31)
    rows = await registry.list_contracts(uow(), state="active", vendor="kuka service gmbh")
    assert [(r.state, r.end_date) for r in rows] == [("active", D(2028, 12, 31))]


async def test_the_scheduler_dates_activate_then_expire_once_and_stale_dates_change_nothing(uow, store):
    contract, _ = await registry.register_vendor_contract(uow(), TERMS, OPS)
    cid = uuid.UUID(contract.id)
    reached = dict(contract_id=cid, time_zone="Europe/Berlin", reached_at=dt.datetime(2026, 12, 31, 23, tzinfo=dt.UTC))
    stale_start = OperationalContractStartReached(start_date=D(2026, 12, 1), **reached)
    start = OperationalContractStartReached(start_date=TERMS.start_date, **reached)
    stale_end = OperationalContractEndReached(end_date=D(2027, 6, 30), **reached)
    end = OperationalContractEndReached(end_date=TERMS.end_date, **reached)
    for handler, event in ((registry.start_reached, stale_start), (registry.start_reached, start),
                           (registry.start_reached, start), (registry.end_reached, stale_end),
                           (registry.end_reached, end), (registry.end_reached, end)):
        await deliver(uow, handler, event)
    assert types(store, cid) == ["VendorContractRegistered", "OperationalContractActivated", "OperationalContractExpired"]
    assert [r.state for r in await registry.list_contracts(uow())] == ["expired"]
    with pytest.raises(DomainError) as terminal:
        await registry.set_operational_terms(uow(), cid, OperationalTerms())
    refused(terminal, rules.STATE_TERMINAL)


async def test_finance_sets_costs_only(uow, store):
    contract, _ = await registry.register_vendor_contract(uow(), TERMS, OPS)
    cid = uuid.UUID(contract.id)
    cheaper = OPS.model_copy(update={"costs": Costs(currency="EUR", payment_amount=Decimal("999.00"))})
    _, outcome = await registry.set_operational_terms(uow(), cid, cheaper, costs_only=True)
    assert outcome == "updated"
    with pytest.raises(DomainError) as not_costs:
        await registry.set_operational_terms(uow(), cid, cheaper.model_copy(update={"owners": []}), costs_only=True)
    refused(not_costs, rules.FINANCE_SETS_COSTS_ONLY, "owners")
    assert types(store, cid)[-1] == "OperationalTermsSet" and len(store.read_stream(str(cid))) == 2


async def test_cancel_is_terminal_and_a_retry_changes_nothing(uow, store):
    contract, _ = await registry.register_vendor_contract(uow(), TERMS, OPS)
    cid = uuid.UUID(contract.id)
    assert (await registry.cancel_contract(uow(), cid, D(2027, 6, 1), "plant closed"))[1] == "updated"
    assert (await registry.cancel_contract(uow(), cid, D(2027, 6, 1)))[1] == "unchanged"
    with pytest.raises(DomainError) as other_date:
        await registry.cancel_contract(uow(), cid, D(2027, 7, 1))
    refused(other_date, rules.STATE_TERMINAL)
    with pytest.raises(DomainError) as revise:
        await registry.register_vendor_contract(uow(), TERMS.model_copy(update={"name": "x"}), OPS)
    refused(revise, rules.STATE_TERMINAL)
    assert (await registry.get_contract(uow(), cid)).canceled_on == D(2027, 6, 1)


async def test_a_contract_from_contracting_keeps_its_legal_terms_and_expires_on_contractexpired(uow, store):
    cid = uuid.uuid4()
    activated = ContractActivated(contract_id=cid, number="C-1", title="MSA", contract_model="msa",
                                  parties=[Party(role="customer", name="ACME")], start_date=D(2027, 1, 1),
                                  end_date=D(2027, 12, 31), time_zone="UTC")
    await deliver(uow, registry.open_from_contracting, activated, 2)
    await deliver(uow, registry.open_from_contracting, activated, 2)  # redelivered
    with pytest.raises(DomainError) as legal:
        await registry.change_terms(uow(), cid, {"end_date": D(2028, 1, 1)})
    refused(legal, rules.LEGAL_TERMS_OWNED_BY_CONTRACTING)
    with pytest.raises(DomainError) as cancel:
        await registry.cancel_contract(uow(), cid, D(2027, 6, 1))
    refused(cancel, rules.LEGAL_TERMS_OWNED_BY_CONTRACTING)
    _, outcome = await registry.set_operational_terms(uow(), cid, OPS)
    assert outcome == "updated"
    expired = ContractExpired(contract_id=cid, end_date=D(2027, 12, 31), expired_at=dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    await deliver(uow, registry.expire_from_contracting, expired)
    await deliver(uow, registry.expire_from_contracting, expired)
    await deliver(uow, registry.expire_from_contracting,  # a legal contract operations never saw
                  ContractExpired(contract_id=uuid.uuid4(), end_date=D(2027, 1, 1), expired_at=expired.expired_at))
    assert types(store, cid) == ["CoverageOpened", "OperationalTermsSet", "OperationalContractExpired"]
    rows = await registry.list_contracts(uow(), origin="contracting")
    assert [(r.state, r.owners, r.vendor) for r in rows] == [("expired", ["ot-maria"], None)]
