"""Service contracts as commerce keeps them, read only: /api/v1/service-contracts.

The read-model view; order sync answers for its own aggregates on its own port.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.rest import Cursor, Limit, Page, page_of
from shared.events.orders import ServiceState
from services.projection.application import queries

router = APIRouter(prefix="/service-contracts", tags=["service contract read model"], dependencies=[Depends(any_role)])

STATE_SINCE = "effective_on date of the transition into the current state; none while it is the initial state"


class ContractLineRecord(BaseModel):
    line_id: UUID
    product: str
    quantity: int
    unit_price: Decimal
    sold_product_id: UUID | None
    install_base_item_id: UUID | None
    state: ServiceState
    state_since: dt.date | None = Field(description=STATE_SINCE)
    start_date: dt.date
    end_date: dt.date
    disconnected: bool = Field(description="ended early (MACD disconnect); it expires after end_date")
    updated_at: dt.datetime


class EntitlementRecord(BaseModel):
    entitlement_id: UUID
    line_id: UUID | None = Field(description="the line it is attached to; none when attached to the contract")
    name: str
    support_level: str | None
    sla: str | None
    features: list[str]
    usage_limit: int | None
    usage_unit: str | None
    sold_product_id: UUID | None
    install_base_item_id: UUID | None
    state: ServiceState
    state_since: dt.date | None = Field(description=STATE_SINCE)
    start_date: dt.date
    end_date: dt.date
    updated_at: dt.datetime


class ServiceContractSummary(BaseModel):
    contract_id: UUID
    number: str
    account: str
    state: ServiceState
    state_since: dt.date | None = Field(description=STATE_SINCE)
    start_date: dt.date
    end_date: dt.date
    time_zone: str = Field(description="IANA zone in which the calendar dates are read")
    cancel_reason: str | None
    updated_at: dt.datetime = Field(description="time of the last event that changed the contract itself")


class ServiceContractRecord(ServiceContractSummary):
    lines: list[ContractLineRecord]
    entitlements: list[EntitlementRecord]


@router.get("", response_model=Page[ServiceContractSummary])
async def list_service_contracts(
    ctx: Annotated[ServiceContext, Depends(context)],
    account: Annotated[str | None, Query(max_length=200, description="The customer account, exactly")] = None,
    state: ServiceState | None = None,
    number: Annotated[str | None, Query(max_length=100, description="The contract number, exactly")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    rows = await queries.service_contracts(ctx.engine, account=account, state=state, number=number, after=cursor, limit=limit)
    return page_of(rows, limit, key=lambda r: r["contract_id"])


@router.get("/{contract_id}", response_model=ServiceContractRecord)
async def get_service_contract(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ServiceContractRecord:
    """The service contract with its lines and entitlements and their states."""
    return ServiceContractRecord(**await queries.service_contract(ctx.engine, contract_id))
