"""What customers own, read only: /api/v1/sold-products and /api/v1/install-base-items."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.events.orders import ServiceState
from services.projection.application import queries

router = APIRouter(tags=["install base read model"], dependencies=[Depends(any_role)])

STATE_SINCE = "effective_on date of the last suspension or resumption; none since it was recorded"


class SoldProductRecord(BaseModel):
    sold_product_id: UUID
    account: str
    product: str
    quantity: int
    state: ServiceState = Field(description="active or suspended")
    state_since: dt.date | None = Field(description=STATE_SINCE)
    suspension_reason: str | None
    updated_at: dt.datetime


class InstallBaseItemRecord(BaseModel):
    install_base_item_id: UUID
    account: str
    name: str
    site: str = Field(description="where the item is now")
    sold_product_id: UUID | None
    serial_number: str | None
    state: ServiceState = Field(description="active or suspended")
    state_since: dt.date | None = Field(description=STATE_SINCE)
    suspension_reason: str | None
    updated_at: dt.datetime


@router.get("/sold-products/{sold_product_id}", response_model=SoldProductRecord)
async def get_sold_product(sold_product_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> SoldProductRecord:
    return SoldProductRecord(**await queries.sold_product(ctx.engine, sold_product_id))


@router.get("/install-base-items/{install_base_item_id}", response_model=InstallBaseItemRecord)
async def get_install_base_item(install_base_item_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> InstallBaseItemRecord:
    return InstallBaseItemRecord(**await queries.install_base_item(ctx.engine, install_base_item_id))
