"""REST resources of orders: /api/v1/orders, created from activated contracts. Fallout is visible
here (each line's last fallout: rule, message, attempt) and retried by Sales Ops (R in phase 6)."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Cursor, Limit, Page, page_of, with_version
from shared.events.sales_orders import OrderLine, OrderLineFallout
from services.order_sync.application import orders as use_cases
from services.order_sync.domain.order import Order

router = APIRouter(prefix="/orders", tags=["orders"])
may_retry = require_roles(Role.SALES_OPS)
OrderState = Literal["open", "fallout", "fulfilled"]


class OrderLineView(OrderLine):
    state: Literal["pending", "fulfilled", "fallout"]
    service_line_id: UUID | None = None
    entitlement_ids: list[UUID] = []
    fallout: OrderLineFallout | None = None


class OrderView(BaseModel):
    order_id: UUID
    contract_id: UUID
    service_contract_id: UUID
    account: str
    currency: str | None
    state: OrderState
    lines: list[OrderLineView]
    created_at: dt.datetime
    fulfilled_at: dt.datetime | None
    version: int

    @classmethod
    def of(cls, order: Order) -> "OrderView":
        def line_view(line: OrderLine) -> OrderLineView:
            done, fell = order.fulfilled.get(line.order_line_id), order.fallout.get(line.order_line_id)
            state = "fulfilled" if done else "fallout" if fell else "pending"
            return OrderLineView(**line.model_dump(), state=state, service_line_id=done.service_line_id if done else None,
                                 entitlement_ids=done.entitlement_ids if done else [], fallout=fell)

        c = order.created
        return cls(order_id=c.order_id, contract_id=c.contract_id, service_contract_id=c.contract_id, account=c.account,
                   currency=c.currency, state="fulfilled" if order.completed else "fallout" if order.fallout else "open",
                   lines=[line_view(line) for line in c.lines], created_at=c.at,
                   fulfilled_at=order.completed.at if order.completed else None, version=order.version)


class OrderSummary(BaseModel):
    order_id: UUID
    contract_id: UUID
    state: OrderState
    fallout_lines: int


@router.get("", response_model=Page[OrderSummary], dependencies=[Depends(any_role)])
async def list_orders(
    ctx: Annotated[ServiceContext, Depends(context)], fallout: bool | None = None, cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    """`fallout=true`: the orders with a line in fallout (what Sales Ops works through)."""
    rows = await use_cases.list_orders(ctx.uow(), fallout=fallout, after=cursor, limit=limit)
    return page_of([OrderSummary.model_validate(row, from_attributes=True) for row in rows], limit,
                   key=lambda o: o.order_id)


@router.get("/{order_id}", response_model=OrderView, dependencies=[Depends(any_role)])
async def get_order(order_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)]) -> OrderView:
    order = await use_cases.get_order(ctx.uow(), order_id)
    with_version(response, order.version)
    return OrderView.of(order)


@router.post("/{order_id}/lines/{order_line_id}/retry", response_model=OrderView)
async def retry_line(
    order_id: UUID, order_line_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_retry)], ctx: Annotated[ServiceContext, Depends(context)],
) -> OrderView:
    """Fulfils a fallen-out line again: onto the service contract, or another fallout (attempt + 1)."""
    order = await use_cases.retry_line(ctx.uow(principal), order_id, order_line_id, ctx.clock)
    with_version(response, order.version)
    return OrderView.of(order)
