"""Use cases of order sync."""

from uuid import UUID

from shared.backbone.unit_of_work import UnitOfWork
from shared.events import ContractActivated
from shared.events.envelope import Envelope
from services.order_sync.domain.service_contract import ServiceContract


async def on_contract_event(uow: UnitOfWork, envelope: Envelope) -> None:
    event = envelope.event
    if isinstance(event, ContractActivated) and await uow.get(ServiceContract, str(event.contract_id)) is None:
        uow.add(ServiceContract.record_from(event))


async def get_service_contract(uow: UnitOfWork, contract_id: UUID) -> ServiceContract:
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), "service_contract")
        return contract
