"""Contracting's and asset coverage's use cases on the in-memory unit of work."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import ConcurrencyConflict, DomainError, NotFound
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.contracts import ContractActivated, Party
from shared.events.envelope import Envelope
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application import linking, registry
from services.asset_coverage.application.following import commit
from services.asset_coverage.domain.asset import Asset
from shared.events.assets import AssetDetails
from services.clm.application import contracts
from services.clm.domain import rules
from services.clm.domain.contract import ContractState

TERMS = dict(number="CNT-1", title="Maintenance of line 4", contract_model="service_contract",
             parties=[Party(role="customer", name="ACME")], start_date=dt.date(2027, 1, 1),
             end_date=dt.date(2027, 12, 31), time_zone="Europe/Berlin")


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def test_a_contract_draft_is_idempotent_and_other_terms_for_its_id_are_refused(new_uow):
    contract_id = uuid.uuid4()
    _, created = await contracts.draft_contract(new_uow(), contract_id, **TERMS)
    again, created_again = await contracts.draft_contract(new_uow(), contract_id, **TERMS)
    assert (created, created_again, again.version) == (True, False, 1)
    with pytest.raises(DomainError) as other:
        await contracts.draft_contract(new_uow(), contract_id, **{**TERMS, "title": "Another"})
    assert other.value.rule == "contract.already_exists"


async def test_a_contract_is_activated_once_and_only_at_the_version_the_client_read(new_uow, store):
    contract_id = uuid.uuid4()
    await contracts.draft_contract(new_uow(), contract_id, **TERMS)
    with pytest.raises(ConcurrencyConflict):
        await contracts.activate_contract(new_uow(), contract_id, expected_version=2)
    assert (await contracts.activate_contract(new_uow(), contract_id, expected_version=1)).state == ContractState.ACTIVE
    with pytest.raises(DomainError) as twice:
        await contracts.activate_contract(new_uow(), contract_id)
    assert twice.value.rule == rules.ACTIVATE_ONLY_FROM_DRAFT
    assert [type(r.event).__name__ for r in store.events] == ["ContractDrafted", "ContractActivated", "ContractActivatedV2"]  # v1, then v2 (empty lines)
    with pytest.raises(NotFound):
        await contracts.get_contract(new_uow(), uuid.uuid4())


async def test_coverage_opens_once_on_activation_and_links_each_registered_asset_once(new_uow, store):
    contract_id, today = uuid.uuid4(), dt.date(2027, 3, 1)
    async with new_uow() as uow:
        uow.add(Asset.register("asset-1", AssetDetails(kind="robot", name="Robot arm")))
        await commit(uow, today)
    with pytest.raises(DomainError) as early:
        await linking.link_asset(new_uow(), today, contract_id, "asset-1")
    assert early.value.rule == "coverage.contract_not_active"
    activated = Envelope(ContractActivated(contract_id=contract_id, **TERMS), stream_version=2)
    for _ in range(2):  # redelivered
        async with new_uow() as uow:
            await registry.open_from_contracting(uow, activated)
            await uow.commit()
    _, linked = await linking.link_asset(new_uow(), today, contract_id, "asset-1")
    coverage, linked_again = await linking.link_asset(new_uow(), today, contract_id, "asset-1")
    assert (linked, linked_again, {a: l.asset_name for a, l in coverage.links.items()}) == (True, False, {"asset-1": "Robot arm"})
    assert (await linking.get_contract(new_uow(), contract_id)).start_date == dt.date(2027, 1, 1)
    assert [type(r.event).__name__ for r in store.events] == [
        "AssetRegistered", "CoverageOpened", "AssetLinked", "CoverageRestored"]
