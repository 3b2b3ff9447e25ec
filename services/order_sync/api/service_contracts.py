"""REST resources of order sync: /api/v1/service-contracts."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.order_sync.application import service_contracts as use_cases

router = APIRouter(prefix="/service-contracts", tags=["service contracts"])


class ServiceContractView(BaseModel):
    contract_id: UUID
    number: str
    account: str
    start_date: dt.date
    end_date: dt.date
    version: int


@router.get("/{contract_id}", response_model=ServiceContractView, dependencies=[Depends(any_role)])
async def get_service_contract(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ServiceContractView:
    c = await use_cases.get_service_contract(ctx.uow(), contract_id)
    return ServiceContractView(
        contract_id=c.contract_id, number=c.number, account=c.account,
        start_date=c.start_date, end_date=c.end_date, version=c.version,
    )
