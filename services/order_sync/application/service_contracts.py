"""Use cases of order sync: service contracts, their lines and entitlements, what they cover,
and the time-driven transitions the scheduler triggers.

Every command runs in one unit of work: the aggregates' events and the query tables (adapters/
indexes.py) commit together. Commands that read a sold product or install base item they do not
change `guard` it, and suspend/resume `serialize`, so a line can never be added against a product
state that changed before the commit (see UnitOfWork.guard / serialize).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Callable, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.backbone.clock import Clock
from shared.backbone.errors import ConcurrencyConflict, ConflictingState, DomainError
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractActivated
from shared.events.lifecycle import ServiceContractDateReached
from shared.events.envelope import Envelope
from services.order_sync.adapters import indexes
from services.order_sync.domain import install_base, rules
from services.order_sync.domain.install_base import InstallBaseItem, OwnedProduct, SoldProduct
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

T = TypeVar("T")


def today_in(clock: Clock, time_zone: str) -> dt.date:
    return clock.now().astimezone(ZoneInfo(time_zone)).date()


async def save_indexes(uow: UnitOfWork) -> None:
    """Brings the query tables in line with the aggregates changed in this unit of work."""
    for aggregate in uow.changed():
        if isinstance(aggregate, ServiceContract):
            await indexes.save_contract(uow.conn, aggregate)
        elif isinstance(aggregate, (SoldProduct, InstallBaseItem)):
            await indexes.save_product(uow.conn, aggregate)


async def commit(uow: UnitOfWork) -> None:
    await save_indexes(uow)
    await uow.commit()


def _check_version(aggregate, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != aggregate.version:
        raise ConcurrencyConflict(aggregate.id, expected_version, aggregate.version)


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


# -- service contracts ------------------------------------------------------------------------


async def draft_service_contract(
    uow: UnitOfWork, contract_id: UUID, *, number: str, account: str, start_date: dt.date, end_date: dt.date,
    time_zone: str, lines: list[ContractLine], entitlements: list[Entitlement],
) -> tuple[ServiceContract, bool]:
    """Idempotent by contract id: the same draft again returns the existing contract."""
    async with uow:
        existing = await uow.get(ServiceContract, str(contract_id))
        if existing is not None:
            if (existing.number, existing.account, existing.start_date, existing.end_date) != (number, account, start_date, end_date):
                raise ConflictingState(rules.ITEM_ALREADY_EXISTS, f"service contract {contract_id} exists with other terms", "contract_id")
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
        contract = await uow.require(ServiceContract, str(contract_id), "service_contract")
        _check_version(contract, expected_version)
        result = command(contract, today_in(clock, contract.time_zone))
        await commit(uow)
        return contract, result


async def add_line(uow: UnitOfWork, clock: Clock, contract_id: UUID, line: ContractLine, expected_version: int | None) -> ServiceContract:
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), "service_contract")
        _check_version(contract, expected_version)
        suspended = await _covered_products(uow, contract.account, _refs(line))
        contract.add_line(line, today_in(clock, contract.time_zone), suspended)
        await commit(uow)
        return contract


async def add_entitlement(uow: UnitOfWork, clock: Clock, contract_id: UUID, ent: Entitlement, expected_version: int | None) -> ServiceContract:
    async with uow:
        contract = await uow.require(ServiceContract, str(contract_id), "service_contract")
        _check_version(contract, expected_version)
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
        contract = await uow.require(ServiceContract, str(contract_id), "service_contract")
        _check_version(contract, expected_version)
        refs = {"sold_product_id": sold_product_id, "install_base_item_id": install_base_item_id}
        suspended = await _covered_products(uow, contract.account, refs)
        contract.change_line_coverage(line_id, sold_product_id, install_base_item_id, today_in(clock, contract.time_zone), suspended)
        await commit(uow)
        return contract


async def get_service_contract(uow: UnitOfWork, contract_id: UUID) -> ServiceContract:
    async with uow:
        return await uow.require(ServiceContract, str(contract_id), "service_contract")


# -- sold products and install base items ---------------------------------------------------------


async def record_product(uow: UnitOfWork, product: OwnedProduct) -> tuple[OwnedProduct, bool]:
    """Idempotent by id: recording the same product again returns the existing one."""
    async with uow:
        existing = await uow.get(type(product), product.id)
        if existing is not None:
            if existing.account != product.account:
                raise ConflictingState(rules.ITEM_ALREADY_EXISTS, f"{product.kind} {product.id} exists for another account", "account")
            return existing, False
        uow.add(product)
        await commit(uow)
        return product, True


async def get_product(uow: UnitOfWork, cls: type[OwnedProduct], product_id: UUID) -> OwnedProduct:
    async with uow:
        return await uow.require(cls, str(product_id), cls.kind)


async def move_install_base_item(uow: UnitOfWork, item_id: UUID, to_site: str, expected_version: int | None) -> InstallBaseItem:
    async with uow:
        item = await uow.require(InstallBaseItem, str(item_id), InstallBaseItem.kind)
        _check_version(item, expected_version)
        item.move(to_site)
        await commit(uow)
        return item


async def suspend_product(uow: UnitOfWork, clock: Clock, cls: type[OwnedProduct], product_id: UUID, reason: str) -> OwnedProduct:
    """Suspends the product and, in the same transaction, every Draft/Active line and entitlement covering it."""
    async with uow:
        await uow.serialize()
        product = await uow.require(cls, str(product_id), cls.kind)
        covering = await _contracts_covering(uow, product.product_id)
        install_base.suspend(product, covering, clock.now().date(), reason,
                             today_of=lambda contract: today_in(clock, contract.time_zone))
        await commit(uow)
        return product


async def resume_product(uow: UnitOfWork, clock: Clock, cls: type[OwnedProduct], product_id: UUID) -> OwnedProduct:
    """Resumes the product; each item it held suspended takes the state its dates give today."""
    async with uow:
        await uow.serialize()
        product = await uow.require(cls, str(product_id), cls.kind)
        covering = await _contracts_covering(uow, product.product_id)
        others = set().union(*(c.covered_products() for c in covering)) - {product.product_id}
        still_suspended = await indexes.suspended_among(uow.conn, others)
        install_base.resume(product, covering, clock.now().date(), still_suspended,
                            today_of=lambda contract: today_in(clock, contract.time_zone))
        await commit(uow)
        return product


async def _contracts_covering(uow: UnitOfWork, product_id: UUID) -> list[ServiceContract]:
    return [await uow.require(ServiceContract, str(cid), "service_contract") for cid in await indexes.contracts_covering(uow.conn, product_id)]


# -- the entitlement check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EntitlementCheck:
    entitled: bool
    matches: list  # rows of indexes.entitlement_index that grant it on the date


async def check_entitlement(
    uow: UnitOfWork, clock: Clock, *, name: str, on: dt.date, account: str | None = None, covering: UUID | None = None,
) -> EntitlementCheck:
    """Is the account / product entitled to `name` on `on`, and by which contract and entitlement?

    Granted by an Active entitlement whose dates hold the date, by an Expired one for a date
    within its dates (it was in force then), and by a Draft one for a future date (it will be);
    never by a Suspended or Canceled one."""
    async with uow:
        rows = await indexes.entitlements_for(uow.conn, name=name, on=on, account=account, covering=covering)
    granting = [
        r for r in rows
        if r.state in ("active", "expired") or (r.state == "draft" and on > today_in(clock, r.time_zone))
    ]
    return EntitlementCheck(bool(granting), granting)


# -- events from other services ---------------------------------------------------------------------


async def on_contract_event(uow: UnitOfWork, envelope: Envelope) -> None:
    """A legal contract was activated: its service contract is drafted with the same id and dates."""
    event = envelope.event
    if isinstance(event, ContractActivated) and await uow.get(ServiceContract, str(event.contract_id)) is None:
        uow.add(ServiceContract.record_from(event))
        await save_indexes(uow)


async def on_schedule_event(uow: UnitOfWork, envelope: Envelope) -> None:
    """The scheduler's timers fell due: bring the contract to what its dates say on that date."""
    event = envelope.event
    if not isinstance(event, ServiceContractDateReached):
        return
    contract = await uow.get(ServiceContract, str(event.contract_id))
    if contract is None:
        return
    contract.reach(event.date)
    await save_indexes(uow)
