"""Use cases of contract requests (phase 1). Each runs in one unit of work: load, decide, append,
and the query table of requests (adapters/request_index.py, `uow.views.requests`) in the same commit."""

import datetime as dt
from typing import Callable, Protocol
from uuid import UUID

from shared.backbone.errors import AlreadyExists, NotFound
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.contracts import RequestTerms
from services.clm.domain.contract import Contract

REQUEST = "contract_request"


class RequestIndex(Protocol):
    """The query table in a unit of work's transaction (`uow.views.requests`): SqlRequestIndex in the
    service (adapters/views.py), MemoryRequestIndex in unit tests (adapters/memory_views.py)."""

    async def save_request(self, contract: Contract) -> None: ...

    async def requests(self, *, after: UUID | None, limit: int, **filters: str | None) -> list[dict]: ...


async def save_requests(uow: UnitOfWork) -> None:
    """Brings the query tables in line with the requests changed in this unit of work: the
    requests', and the approvers' queue (a new version or a cancellation closes open steps)."""
    index: RequestIndex = uow.views.requests
    for aggregate in uow.changed():
        if isinstance(aggregate, Contract) and aggregate.requested is not None:
            await index.save_request(aggregate)
            await uow.views.approvals.save_steps(aggregate)


async def commit(uow: UnitOfWork) -> None:
    await save_requests(uow)
    await uow.commit()


@created_once
async def request_contract(uow: UnitOfWork, contract_id: UUID, terms: RequestTerms, *, by: str,
                           at: dt.datetime) -> tuple[Contract, bool]:
    """A self-service request. Returns (contract, created): the same request retried with its id is harmless."""
    async with uow:
        requested = Contract.request(contract_id, terms, by=by, at=at)
        existing = await uow.get(Contract, str(contract_id))
        if existing is not None:
            if existing.same_request(requested):
                return existing, False
            raise AlreadyExists("contract", contract_id, field="contract_id")
        uow.add(requested)
        await commit(uow)
        return requested, True


async def change_request(uow: UnitOfWork, contract_id: UUID, command: Callable[[Contract], None],
                         expected_version: int | None = None) -> Contract:
    """Runs one of the request's commands (enrich, submit, start work, ...) on the version the client read."""
    async with uow:
        contract = await _require_request(uow, contract_id, expected_version)
        command(contract)
        await commit(uow)
        return contract


async def get_request(uow: UnitOfWork, contract_id: UUID) -> Contract:
    async with uow:
        return await _require_request(uow, contract_id)


async def list_requests(uow: UnitOfWork, *, after: UUID | None, limit: int, **filters: str | None) -> list[dict]:
    async with uow:
        index: RequestIndex = uow.views.requests
        return await index.requests(after=after, limit=limit, **filters)


async def _require_request(uow: UnitOfWork, contract_id: UUID, expected_version: int | None = None) -> Contract:
    contract = await uow.require(Contract, str(contract_id), REQUEST, expected_version)
    if contract.requested is None:  # drafted without a request: a contract, but no request
        raise NotFound(REQUEST, contract_id)
    return contract
