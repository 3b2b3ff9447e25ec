"""Use cases of service contracts, their lines and entitlements.

Every command runs in one unit of work: the aggregates' events and the query tables commit
together (application/indexing.py). Commands that read a sold product or install base item they do
not change `guard` it, so a line can never be added against a product state that changed before
the commit (see UnitOfWork.guard).
"""

import datetime as dt
from typing import Callable, TypeVar
from uuid import UUID

from shared.backbone.clock import Clock, today_in
from shared.backbone.errors import AlreadyExists, DomainError
from shared.backbone.unit_of_work import UnitOfWork, created_once
from services.order_sync.application.indexing import commit
from services.order_sync.domain import rules
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

T = TypeVar("T")
CONTRACT = "service_contract"


async def _covered_products(uow: UnitOfWork, account: str, refs: dict[str, UUID | None]) -> set[UUID]:
    """Loads and guards the products an item will cover; returns those that are suspended."""
    suspended = set()
    for field, product_id in refs.items():
        if product_id is None:
            continue
        cls = SoldProduct if field == "sold_product_id" else InstallBaseItem
        product = await uow.get(cls, str(product_id))
        if product is None:
            raise DomainError(f"{cls.kind}.not_found", f"{cls.kind} {product_id} does not exist", field=field)
        if product.account != account:
            raise DomainError(rules.COVERAGE_ACCOUNT_MISMATCH,
                              f"{cls.kind} {product_id} belongs to {product.account!r}, not to {account!r}", field=field)
        uow.guard(product)
        if product.suspended:
            suspended.add(product.product_id)
    return suspended


def _refs(item) -> dict[str, UUID | None]:
    return {"sold_product_id": item.sold_product_id, "install_base_item_id": item.install_base_item_id}


@created_once
async def draft_service_contract(
    uow: UnitOfWork, contract_id: UUID, *, number: str, account: str, start_date: dt.date, end_date: dt.date,
    time_zone: str, lines: list[ContractLine], entitlements: list[Entitlement],
) -> tuple[ServiceContract, bool]:
    """Idempotent by contract id: the same draft again returns the existing contract."""
    async with uow:
        existing = await uow.get(ServiceContract, str(contract_id))
        if existing is not None:
            if (existing.number, existing.account, existing.start_date, existing.end_date) != (number, account, start_date, end_date):
                raise AlreadyExists("service_contract", contract_id, "contract_id")
            return existing, False
        suspended = set()
        for item in [*lines, *entitlements]:
            suspended |= await _covered_products(uow, account, _refs(item))
        contract = ServiceContract.draft(
            contract_id, number=number, account=account, start_date=start_date, end_date=end_date,
            time_zone=time_zone, lines=lines, entitlements=entitlements, suspended=suspended,
        )
        uow.add(contract)
        await commit(uow)
        return contract, True


async def change_contract(
    uow: UnitOfWork, clock: Clock, contract_id: UUID, expected_version: int | None,
    command: Callable[[ServiceContract, dt.date], T],
) -> tuple[ServiceContract, T]:
    """Runs one command on the contract, with today's date in its time zone."""
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), CONTRACT, expected_version)
        result = command(contract, today_in(clock, contract.time_zone))
        await commit(uow)
        return contract, result


async def add_line(uow: UnitOfWork, clock: Clock, contract_id: UUID, line: ContractLine, expected_version: int | None) -> ServiceContract:
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), CONTRACT, expected_version)
        suspended = await _covered_products(uow, contract.account, _refs(line))
        contract.add_line(line, today_in(clock, contract.time_zone), suspended)
        await commit(uow)
        return contract


async def add_entitlement(uow: UnitOfWork, clock: Clock, contract_id: UUID, ent: Entitlement, expected_version: int | None) -> ServiceContract:
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), CONTRACT, expected_version)
        suspended = await _covered_products(uow, contract.account, _refs(ent))
        if ent.line_id in contract.lines:
            suspended |= await _covered_products(uow, contract.account, _refs(contract.lines[ent.line_id]))
        contract.add_entitlement(ent, today_in(clock, contract.time_zone), suspended)
        await commit(uow)
        return contract


async def change_line_coverage(
    uow: UnitOfWork, clock: Clock, contract_id: UUID, line_id: UUID, sold_product_id: UUID | None,
    install_base_item_id: UUID | None, expected_version: int | None,
) -> ServiceContract:
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), CONTRACT, expected_version)
        refs = {"sold_product_id": sold_product_id, "install_base_item_id": install_base_item_id}
        suspended = await _covered_products(uow, contract.account, refs)
        contract.change_line_coverage(line_id, sold_product_id, install_base_item_id, today_in(clock, contract.time_zone), suspended)
        await commit(uow)
        return contract


async def get_service_contract(uow: UnitOfWork, contract_id: UUID) -> ServiceContract:
    async with uow:
        return await uow.require(ServiceContract, str(contract_id), CONTRACT)
