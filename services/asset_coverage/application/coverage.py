"""Use cases of asset coverage."""

from uuid import UUID

from shared.backbone.errors import ConflictingState
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from services.asset_coverage.domain.operational_contract import OperationalContract


async def open_coverage(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractActivated: the contract's coverage opens (once); registry.open_from_contracting now."""
    from services.asset_coverage.application.registry import open_from_contracting

    await open_from_contracting(uow, envelope)


async def link_asset(uow: UnitOfWork, contract_id: UUID, asset_id: str, asset_name: str) -> tuple[OperationalContract, bool]:
    async with uow:
        coverage = await uow.get(OperationalContract, str(contract_id))
        if coverage is None:
            raise ConflictingState(
                "coverage.contract_not_active",
                f"contract {contract_id} is not active (or its activation has not reached this service yet)",
                field="contract_id",
            )
        linked = coverage.link_asset(asset_id, asset_name)
        await uow.commit()
        return coverage, linked


async def get_coverage(uow: UnitOfWork, contract_id: UUID) -> OperationalContract:
    async with uow:
        coverage = await uow.require(OperationalContract, str(contract_id), "coverage")
        return coverage
