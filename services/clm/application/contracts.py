"""Use cases of contracting. Each runs in one unit of work: load, decide, append, commit."""

import datetime as dt
from uuid import UUID

from shared.backbone.errors import AlreadyExists, NotFound
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.contracts import Party
from services.clm.domain.contract import Contract


@created_once
async def draft_contract(
    uow: UnitOfWork,
    contract_id: UUID,
    *,
    number: str,
    title: str,
    contract_model: str,
    parties: list[Party],
    start_date: dt.date,
    end_date: dt.date,
    time_zone: str,
) -> tuple[Contract, bool]:
    """Returns (contract, created). Retrying the same request with the same id is harmless."""
    async with uow:
        requested = Contract.draft(
            contract_id, number=number, title=title, contract_model=contract_model, parties=parties,
            start_date=start_date, end_date=end_date, time_zone=time_zone,
        )
        existing = await uow.get(Contract, str(contract_id))
        if existing is not None:
            if existing.terms == requested.pending_events[0]:
                return existing, False
            raise AlreadyExists("contract", contract_id, field="contract_id")
        uow.add(requested)
        await uow.commit(grouped=True)  # only reads and its events: may share a COMMIT
        return requested, True


async def activate_contract(uow: UnitOfWork, contract_id: UUID, expected_version: int | None = None) -> Contract:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), "contract", expected_version)
        contract.activate()
        await uow.commit(grouped=True)  # only reads and its events: may share a COMMIT
        return contract


async def get_contract(uow: UnitOfWork, contract_id: UUID) -> Contract:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), "contract")
        if contract.terms is None:  # only requested so far: see /contract-requests/{id}
            raise NotFound("contract", contract_id)
        return contract
