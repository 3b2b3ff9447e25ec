"""asset_coverage following contracting's renewals (phase 7): a renewal successor's operational
side opens with its predecessor's links carried over (clm's ContractLinked first, then its
ContractActivated), and a tacit renewal (ContractRenewed) moves the operational end date."""

import datetime as dt
import uuid

from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.contract_links import ContractLinked
from shared.events.contracts import ContractActivated, Party
from shared.events.coverage import AssetLinked, CoverageOpened
from shared.events.envelope import Envelope
from shared.events.renewal_terms import ContractPeriod, ContractRenewed
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application import registry
from services.asset_coverage.domain.operational_contract import OperationalContract

D = dt.date
AT = dt.datetime(2027, 1, 1, 6, 0, tzinfo=dt.UTC)


def _activated(contract_id: uuid.UUID, start: dt.date, end: dt.date) -> ContractActivated:
    return ContractActivated(contract_id=contract_id, number="CNT-1", title="Service agreement",
                             contract_model="service_contract", parties=[Party(role="customer", name="ACME")],
                             start_date=start, end_date=end, time_zone="UTC")


async def _handle(new_uow, handler, event) -> None:
    async with new_uow() as uow:
        await handler(uow, Envelope(event, 1))
        await uow.commit()


async def _contract(new_uow, contract_id) -> OperationalContract:
    async with new_uow() as uow:
        return await uow.require(OperationalContract, str(contract_id), "coverage")


async def test_a_successor_opens_with_its_predecessors_links_carried_over():
    store = MemoryEventStore()
    new_uow = lambda: MemoryUnitOfWork(store, views=MemoryViews)  # noqa: E731
    predecessor_id, successor_id, unrelated_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await _handle(new_uow, registry.open_from_contracting, _activated(predecessor_id, D(2026, 1, 1), D(2026, 12, 31)))
    async with new_uow() as uow:
        predecessor = await uow.get(OperationalContract, str(predecessor_id))
        predecessor.link_asset("robot-7", "Robot 7")
        await uow.commit()
    await _handle(new_uow, registry.note_successor, ContractLinked(
        contract_id=successor_id, relation="successor", parent_id=predecessor_id, effective_date=D(2027, 1, 1),
        linked_by="sales-ann", at=AT))
    await _handle(new_uow, registry.note_successor, ContractLinked(
        contract_id=unrelated_id, relation="amendment", parent_id=predecessor_id, effective_date=D(2026, 6, 1),
        linked_by="sales-ann", at=AT))
    await _handle(new_uow, registry.open_from_contracting, _activated(successor_id, D(2027, 1, 1), D(2027, 12, 31)))
    await _handle(new_uow, registry.open_from_contracting, _activated(unrelated_id, D(2026, 6, 1), D(2026, 12, 31)))

    successor = await _contract(new_uow, successor_id)
    assert successor.predecessor_id == predecessor_id
    assert [e for e in store.read_stream(str(successor_id)) if isinstance(e.event, AssetLinked)][0].event == AssetLinked(
        contract_id=successor_id, asset_id="robot-7", asset_name="Robot 7", carried_from=predecessor_id)
    assert list(successor.links) == ["robot-7"]
    assert (await _contract(new_uow, unrelated_id)).links == {}  # an amendment carries nothing


async def test_a_tacit_renewal_moves_the_operational_end_date_once():
    store = MemoryEventStore()
    new_uow = lambda: MemoryUnitOfWork(store, views=MemoryViews)  # noqa: E731
    contract_id = uuid.uuid4()
    await _handle(new_uow, registry.open_from_contracting, _activated(contract_id, D(2027, 1, 31), D(2028, 1, 30)))
    renewed = ContractRenewed(contract_id=contract_id, previous_end_date=D(2028, 1, 30), renewals=1, at=AT,
                              period=ContractPeriod(number=2, start_date=D(2028, 1, 31), end_date=D(2029, 1, 30),
                                                    notice_deadline=D(2028, 11, 1), cancel_by=D(2028, 10, 2)))
    await _handle(new_uow, registry.follow_renewal, renewed)
    await _handle(new_uow, registry.follow_renewal, renewed)  # redelivered
    await _handle(new_uow, registry.follow_renewal, renewed.model_copy(update={"contract_id": uuid.uuid4()}))  # unknown here

    contract = await _contract(new_uow, contract_id)
    assert (contract.start_date, contract.end_date, contract.state) == (D(2027, 1, 31), D(2029, 1, 30), "active")
    opened = [r.event for r in store.read_stream(str(contract_id)) if isinstance(r.event, CoverageOpened)]
    assert [(e.start_date, e.end_date) for e in opened] == [(D(2027, 1, 31), D(2028, 1, 30)), (D(2027, 1, 31), D(2029, 1, 30))]
