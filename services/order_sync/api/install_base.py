"""REST resources of what customers own: /api/v1/sold-products and /api/v1/install-base-items.

Suspending one suspends, in the same transaction, the Draft/Active lines and entitlements covering
it; resuming gives them the state their dates say.
"""

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import IfMatch, answer_created, expected_version, replayed
from shared.events.base import MAX_QUANTITY
from services.order_sync.application import install_base as use_cases
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct

router = APIRouter(tags=["install base"])

# Sales Ops keeps what was sold in step with the contracts; IT/OT's asset managers own the install base.
may_change = require_roles(Role.SALES_OPS, Role.CONTRACT_MANAGER, Role.ASSET_MANAGER)
Ctx = Annotated[ServiceContext, Depends(context)]
Changer = Annotated[Principal, Depends(may_change)]


class NewSoldProduct(BaseModel):
    sold_product_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    account: str = Field(min_length=1, max_length=200)
    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(1, gt=0, le=MAX_QUANTITY)


class NewInstallBaseItem(BaseModel):
    install_base_item_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    account: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    site: str = Field(min_length=1, max_length=200)
    sold_product_id: UUID | None = None
    serial_number: str | None = Field(None, max_length=100)


class Suspension(BaseModel):
    reason: str = Field("", max_length=500)


class Move(BaseModel):
    to_site: str = Field(min_length=1, max_length=200)


class SoldProductView(BaseModel):
    sold_product_id: UUID
    account: str
    product: str
    quantity: int
    state: str
    version: int

    @classmethod
    def of(cls, p: SoldProduct) -> "SoldProductView":
        return cls(sold_product_id=p.product_id, account=p.account, product=p.product, quantity=p.quantity,
                   state=p.state, version=p.version)


class InstallBaseItemView(BaseModel):
    install_base_item_id: UUID
    account: str
    name: str
    site: str
    sold_product_id: UUID | None
    serial_number: str | None
    state: str
    version: int

    @classmethod
    def of(cls, i: InstallBaseItem) -> "InstallBaseItemView":
        return cls(install_base_item_id=i.product_id, account=i.account, name=i.name, site=i.site,
                   sold_product_id=i.sold_product_id, serial_number=i.serial_number, state=i.state, version=i.version)


@router.post("/sold-products", status_code=status.HTTP_201_CREATED, response_model=SoldProductView,
             responses=replayed(SoldProductView))
async def record_sold_product(body: NewSoldProduct, response: Response, principal: Changer, ctx: Ctx) -> SoldProductView:
    product_id = body.sold_product_id or uuid4()
    product, is_new = await use_cases.record_product(
        ctx.uow(principal), SoldProduct.record_new(product_id, account=body.account, product=body.product, quantity=body.quantity))
    answer_created(response, f"/api/v1/sold-products/{product_id}", is_new)
    return SoldProductView.of(product)


@router.get("/sold-products/{product_id}", response_model=SoldProductView, dependencies=[Depends(any_role)])
async def get_sold_product(product_id: UUID, ctx: Ctx) -> SoldProductView:
    return SoldProductView.of(await use_cases.get_product(ctx.uow(), SoldProduct, product_id))


@router.post("/sold-products/{product_id}/suspension", response_model=SoldProductView)
async def suspend_sold_product(product_id: UUID, principal: Changer, ctx: Ctx, body: Suspension | None = None) -> SoldProductView:
    product = await use_cases.suspend_product(ctx.uow(principal), ctx.clock, SoldProduct, product_id, body.reason if body else "")
    return SoldProductView.of(product)


@router.post("/sold-products/{product_id}/resumption", response_model=SoldProductView)
async def resume_sold_product(product_id: UUID, principal: Changer, ctx: Ctx) -> SoldProductView:
    return SoldProductView.of(await use_cases.resume_product(ctx.uow(principal), ctx.clock, SoldProduct, product_id))


@router.post("/install-base-items", status_code=status.HTTP_201_CREATED, response_model=InstallBaseItemView,
             responses=replayed(InstallBaseItemView))
async def record_install_base_item(body: NewInstallBaseItem, response: Response, principal: Changer, ctx: Ctx) -> InstallBaseItemView:
    item_id = body.install_base_item_id or uuid4()
    item, is_new = await use_cases.record_product(ctx.uow(principal), InstallBaseItem.record_new(
        item_id, account=body.account, name=body.name, site=body.site,
        sold_product_id=body.sold_product_id, serial_number=body.serial_number))
    answer_created(response, f"/api/v1/install-base-items/{item_id}", is_new)
    return InstallBaseItemView.of(item)


@router.get("/install-base-items/{item_id}", response_model=InstallBaseItemView, dependencies=[Depends(any_role)])
async def get_install_base_item(item_id: UUID, ctx: Ctx) -> InstallBaseItemView:
    return InstallBaseItemView.of(await use_cases.get_product(ctx.uow(), InstallBaseItem, item_id))


@router.post("/install-base-items/{item_id}/move", response_model=InstallBaseItemView)
async def move_install_base_item(item_id: UUID, body: Move, principal: Changer, ctx: Ctx,
                                 if_match: IfMatch = None) -> InstallBaseItemView:
    """MACD "move": the item is now at another site."""
    return InstallBaseItemView.of(
        await use_cases.move_install_base_item(ctx.uow(principal), item_id, body.to_site, expected_version(if_match)))


@router.post("/install-base-items/{item_id}/suspension", response_model=InstallBaseItemView)
async def suspend_install_base_item(item_id: UUID, principal: Changer, ctx: Ctx, body: Suspension | None = None) -> InstallBaseItemView:
    item = await use_cases.suspend_product(ctx.uow(principal), ctx.clock, InstallBaseItem, item_id, body.reason if body else "")
    return InstallBaseItemView.of(item)


@router.post("/install-base-items/{item_id}/resumption", response_model=InstallBaseItemView)
async def resume_install_base_item(item_id: UUID, principal: Changer, ctx: Ctx) -> InstallBaseItemView:
    return InstallBaseItemView.of(await use_cases.resume_product(ctx.uow(principal), ctx.clock, InstallBaseItem, item_id))
