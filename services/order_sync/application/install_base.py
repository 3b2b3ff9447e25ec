"""Use cases of what customers own: sold products and install base items.

Suspend and resume change the product and, in the same transaction, every line and entitlement
covering it; they `serialize` first, so no line can be added against the product's old state
meanwhile (see UnitOfWork.serialize).
"""

from uuid import UUID

from shared.backbone.clock import Clock, today_in
from shared.backbone.errors import AlreadyExists
from shared.backbone.unit_of_work import UnitOfWork, created_once
from services.order_sync.application.indexing import commit, indexes
from services.order_sync.domain import install_base
from services.order_sync.domain.install_base import InstallBaseItem, OwnedProduct
from services.order_sync.domain.service_contract import ServiceContract


@created_once
async def record_product(uow: UnitOfWork, product: OwnedProduct) -> tuple[OwnedProduct, bool]:
    """Idempotent by id: recording the same product again returns the existing one."""
    async with uow:
        existing = await uow.get(type(product), product.id)
        if existing is not None:
            if existing.account != product.account:
                raise AlreadyExists(product.kind, product.id, "account")
            return existing, False
        uow.add(product)
        await commit(uow)
        return product, True


async def get_product(uow: UnitOfWork, cls: type[OwnedProduct], product_id: UUID) -> OwnedProduct:
    async with uow:
        return await uow.require(cls, str(product_id), cls.kind)


async def move_install_base_item(uow: UnitOfWork, item_id: UUID, to_site: str, expected_version: int | None) -> InstallBaseItem:
    async with uow:
        item = await uow.require(InstallBaseItem, str(item_id), InstallBaseItem.kind, expected_version)
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
        still_suspended = await indexes(uow).suspended_among(others)
        install_base.resume(product, covering, clock.now().date(), still_suspended,
                            today_of=lambda contract: today_in(clock, contract.time_zone))
        await commit(uow)
        return product


async def _contracts_covering(uow: UnitOfWork, product_id: UUID) -> list[ServiceContract]:
    return [await uow.require(ServiceContract, str(cid), "service_contract") for cid in await indexes(uow).contracts_covering(product_id)]
