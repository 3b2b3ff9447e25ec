"""REST resources of asset coverage: /api/v1/contracts/{id}/assets."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import answer_created, replayed
from services.asset_coverage.application import coverage as use_cases
from services.asset_coverage.domain.operational_contract import OperationalContract

router = APIRouter(prefix="/contracts/{contract_id}/assets", tags=["coverage"])

# IT/OT owns operational links; the contract manager stays accountable for the contract.
may_link = require_roles(Role.ASSET_MANAGER, Role.CONTRACT_MANAGER)


class LinkAsset(BaseModel):
    asset_id: str = Field(min_length=1, max_length=128, description="Asset tag, CI id or serial number")
    asset_name: str = Field(min_length=1, max_length=300)


class LinkedAsset(BaseModel):
    asset_id: str
    asset_name: str


class CoverageView(BaseModel):
    contract_id: UUID
    start_date: dt.date
    end_date: dt.date
    assets: list[LinkedAsset]
    version: int

    @classmethod
    def of(cls, coverage: OperationalContract) -> "CoverageView":
        return cls(
            contract_id=UUID(coverage.id), start_date=coverage.start_date, end_date=coverage.end_date,
            assets=[LinkedAsset(asset_id=link.asset_id, asset_name=link.asset_name) for link in coverage.links.values()],
            version=coverage.version,
        )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CoverageView, responses=replayed(CoverageView))
async def link_asset(
    contract_id: UUID,
    body: LinkAsset,
    response: Response,
    principal: Annotated[Principal, Depends(may_link)],
    ctx: Annotated[ServiceContext, Depends(context)],
) -> CoverageView:
    coverage, linked = await use_cases.link_asset(ctx.uow(principal), contract_id, body.asset_id, body.asset_name)
    answer_created(response, f"/api/v1/contracts/{contract_id}/assets", linked)
    return CoverageView.of(coverage)


@router.get("", response_model=CoverageView, dependencies=[Depends(any_role)])
async def get_coverage(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> CoverageView:
    return CoverageView.of(await use_cases.get_coverage(ctx.uow(), contract_id))
