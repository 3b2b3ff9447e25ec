"""REST resources of a contract's links: /api/v1/contracts/{id}/assets (one asset, its dates, unlink)
and /api/v1/contracts/{id}/asset-links (many by a list or by a filter, in one append). Only an
asset manager links: IT/OT owns operational links (docs/design/operations.md)."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.clock import today_in
from shared.backbone.errors import invalid
from shared.backbone.rest import IfMatch, answer_created, expected_version, replayed, with_version
from shared.events.assets import ASSET_ID_PATTERN, AssetKind, Criticality
from services.asset_coverage.application import linking
from services.asset_coverage.application.linking import MAX_BULK_LINKS
from services.asset_coverage.domain.operational_contract import OperationalContract

router = APIRouter(prefix="/contracts/{contract_id}", tags=["links"])

may_link = require_roles(Role.ASSET_MANAGER)

AssetIdText = Annotated[str, Field(pattern=ASSET_ID_PATTERN, description="Asset tag, CI id, serial or CMDB id")]


class LinkDates(BaseModel):
    effective_from: dt.date | None = Field(default=None, description="first day covered; none: the contract's start")
    effective_to: dt.date | None = Field(default=None, description="last day covered; none: the contract's end")


class LinkAsset(LinkDates):
    asset_id: AssetIdText
    asset_name: str | None = Field(default=None, max_length=300,
                                   description="ignored: the registered asset's name is used (kept for old clients)")


class AssetFilter(BaseModel):
    kind: AssetKind | None = None
    site: str | None = Field(default=None, max_length=200)
    criticality: Criticality | None = None


class LinkMany(LinkDates):
    """Either `asset_ids` or `filter`: every asset listed, or every registered asset matching."""

    asset_ids: list[AssetIdText] | None = Field(default=None, min_length=1, max_length=MAX_BULK_LINKS)
    filter: AssetFilter | None = None


class LinkedAsset(BaseModel):
    asset_id: str
    asset_name: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    carried_from: UUID | None


class CoverageView(BaseModel):
    contract_id: UUID
    start_date: dt.date
    end_date: dt.date
    state: str | None
    assets: list[LinkedAsset]
    version: int

    @classmethod
    def of(cls, contract: OperationalContract) -> "CoverageView":
        return cls(
            contract_id=UUID(contract.id), start_date=contract.start_date, end_date=contract.end_date,
            state=contract.state,
            assets=[LinkedAsset(asset_id=link.asset_id, asset_name=link.asset_name, effective_from=link.effective_from,
                                effective_to=link.effective_to, carried_from=link.carried_from)
                    for link in sorted(contract.links.values(), key=lambda link: link.asset_id)],
            version=contract.version,
        )


class BulkLinked(BaseModel):
    contract_id: UUID
    linked: list[str] = Field(description="the assets whose link was added or whose dates changed")
    unchanged: int = Field(description="assets already linked so")
    version: int


def _today(ctx: ServiceContext) -> dt.date:
    return today_in(ctx.clock, "UTC")


@router.post("/assets", status_code=status.HTTP_201_CREATED, response_model=CoverageView,
             responses=replayed(CoverageView))
async def link_asset(
    contract_id: UUID, body: LinkAsset, response: Response,
    principal: Annotated[Principal, Depends(may_link)], ctx: Annotated[ServiceContext, Depends(context)],
) -> CoverageView:
    """Links one registered asset (422 `asset.unknown` if it is not), within the contract's dates
    (422 `link.within_contract`); linking it again with other dates revises them."""
    contract, changed = await linking.link_asset(ctx.uow(principal), _today(ctx), contract_id, body.asset_id,
                                                 body.effective_from, body.effective_to)
    answer_created(response, f"/api/v1/contracts/{contract_id}/assets", changed)
    with_version(response, contract.version)
    return CoverageView.of(contract)


@router.get("/assets", response_model=CoverageView, dependencies=[Depends(any_role)])
async def get_links(contract_id: UUID, response: Response,
                    ctx: Annotated[ServiceContext, Depends(context)]) -> CoverageView:
    contract = await linking.get_contract(ctx.uow(), contract_id)
    with_version(response, contract.version)
    return CoverageView.of(contract)


@router.put("/assets/{asset_id:path}", response_model=CoverageView)
async def revise_link(
    contract_id: UUID, asset_id: str, body: LinkDates, response: Response,
    principal: Annotated[Principal, Depends(may_link)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> CoverageView:
    """New dates for a link (backdating allowed: the coverage index keeps what was known when)."""
    contract = await linking.revise_link(ctx.uow(principal), _today(ctx), contract_id, asset_id,
                                         body.effective_from, body.effective_to, expected_version(if_match))
    with_version(response, contract.version)
    return CoverageView.of(contract)


@router.delete("/assets/{asset_id:path}", response_model=CoverageView)
async def unlink(
    contract_id: UUID, asset_id: str, response: Response,
    principal: Annotated[Principal, Depends(may_link)], ctx: Annotated[ServiceContext, Depends(context)],
    reason: Annotated[str | None, Query(max_length=500, description="why the link was recorded in error")] = None,
    if_match: IfMatch = None,
) -> CoverageView:
    """Removes a link recorded in error (as if it never covered); to end a real link, revise its effective_to."""
    contract = await linking.unlink(ctx.uow(principal), _today(ctx), contract_id, asset_id, reason,
                                    expected_version(if_match))
    with_version(response, contract.version)
    return CoverageView.of(contract)


@router.post("/asset-links", response_model=BulkLinked)
async def link_many(
    contract_id: UUID, body: LinkMany, response: Response,
    principal: Annotated[Principal, Depends(may_link)], ctx: Annotated[ServiceContext, Depends(context)],
) -> BulkLinked:
    """Links up to 5,000 assets in one append: the ids listed (all registered, else 422 `asset.unknown`
    with the `unknown` ids), or every registered asset matching the filter (kind, site, criticality)."""
    uow, today = ctx.uow(principal), _today(ctx)
    if (body.asset_ids is None) == (body.filter is None):
        raise invalid("links.list_or_filter", "give either asset_ids or filter", field="asset_ids")
    if body.asset_ids is not None:
        contract, changed = await linking.link_assets(uow, today, contract_id, body.asset_ids,
                                                      body.effective_from, body.effective_to)
        considered = len(set(body.asset_ids))
    else:
        f = body.filter
        contract, changed, considered = await linking.link_matching(
            uow, today, contract_id, kind=f.kind, site=f.site, criticality=f.criticality,
            effective_from=body.effective_from, effective_to=body.effective_to)
    with_version(response, contract.version)
    return BulkLinked(contract_id=contract_id, linked=changed, unchanged=considered - len(changed),
                      version=contract.version)
