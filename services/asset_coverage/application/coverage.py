"""Use cases of asset coverage fed by contracting: a contract activated there opens here."""

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope
from services.asset_coverage.application.following import save_coverage
from services.asset_coverage.domain.operational_contract import OperationalContract


async def open_coverage(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractActivated: the contract's coverage opens (once)."""
    event: ContractActivated = envelope.event
    if await uow.get(OperationalContract, str(event.contract_id)) is None:
        uow.add(OperationalContract.open_from_contracting(event))
        await save_coverage(uow, envelope.time.date())
