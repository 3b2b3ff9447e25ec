"""Use cases of amendments and renewal successors (phase 7): each opens a new contract request
through the normal intake and links it (ContractLinked) in one unit of work, with the request's
and the link's query rows in the same commit."""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.errors import AlreadyExists
from shared.backbone.unit_of_work import UnitOfWork, created_once
from services.clm.application.contract_requests import REQUEST, commit
from services.clm.domain.contract import Contract
from services.clm.domain.contract.links import AMENDMENT, SUCCESSOR


@dataclass(frozen=True)
class Links:
    contract: Contract
    parent: Contract | None  # of an amendment
    predecessor: Contract | None  # of a successor
    amendments: list[Contract]
    successor: Contract | None  # the live one: not cancelled


@created_once
async def amend(uow: UnitOfWork, parent_id: UUID, amendment_id: UUID, *, effective_date: dt.date,
                title: str | None, by: str, at: dt.datetime) -> tuple[Contract, bool]:
    """Returns (amendment, created): the same amendment retried with its id is harmless."""
    async with uow:
        parent = await uow.require(Contract, str(parent_id), REQUEST)
        amendment = Contract.amendment_of(parent, amendment_id, effective_date=effective_date, title=title, by=by, at=at)
        existing = await uow.get(Contract, str(amendment_id))
        if existing is not None:
            if existing.same_link(amendment):
                return existing, False
            raise AlreadyExists("contract", amendment_id, field="amendment_id")
        await _add_linked(uow, amendment)
        return amendment, True


@created_once
async def renew(uow: UnitOfWork, predecessor_id: UUID, successor_id: UUID, *, by: str,
                at: dt.datetime) -> tuple[Contract, bool]:
    """Returns (successor, created). A predecessor has one live successor: a second renew (any id)
    answers it; once it was cancelled, a renew opens a new one."""
    async with uow:
        await uow.serialize()  # two renews at once: the second waits and finds the first's successor
        predecessor = await uow.require(Contract, str(predecessor_id), REQUEST)
        successor = Contract.successor_of(predecessor, successor_id, by=by, at=at)
        if live := await _live_successor(uow, predecessor_id):
            return live, False
        if await uow.get(Contract, str(successor_id)) is not None:
            raise AlreadyExists("contract", successor_id, field="successor_id")
        await _add_linked(uow, successor)
        return successor, True


async def links_of(uow: UnitOfWork, contract_id: UUID) -> Links:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), "contract")
        link = contract.link
        above = await uow.get(Contract, str(link.parent_id)) if link else None
        amendments = [await uow.get(Contract, str(i)) for i in await uow.views.links.linked_to(contract_id, AMENDMENT)]
        return Links(contract=contract, parent=above if link and link.relation == AMENDMENT else None,
                     predecessor=above if link and link.relation == SUCCESSOR else None,
                     amendments=amendments, successor=await _live_successor(uow, contract_id))


async def _live_successor(uow: UnitOfWork, predecessor_id: UUID) -> Contract | None:
    ids = await uow.views.links.linked_to(predecessor_id, SUCCESSOR)
    await uow.prefetch([str(i) for i in ids])
    live = [c for i in ids if (c := await uow.get(Contract, str(i))) is not None and c.is_live]
    return live[-1] if live else None


async def _add_linked(uow: UnitOfWork, contract: Contract) -> None:
    uow.add(contract)
    await uow.views.links.save_link(contract.link)
    await commit(uow)
