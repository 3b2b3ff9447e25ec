"""REST resources of assets: /api/v1/assets, what contracts cover (machines, CIs, services,
software entitlements), keyed by the id operations knows them by.

`PUT /assets/{asset_id}` registers or revises (201 / 200, nothing recorded when nothing changed);
the path takes ids with `/` (a CMDB's ids), percent-encoded or not."""

import datetime as dt
from urllib.parse import quote
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, any_role
from shared.backbone.rest import Limit, with_version
from shared.events.assets import ASSET_ID_PATTERN, AssetDetails, AssetKind, Criticality
from services.asset_coverage.api.bodies import AssetBody
from services.asset_coverage.api.ownership import may_manage
from services.asset_coverage.application import registry
from services.asset_coverage.domain.asset import Asset

router = APIRouter(prefix="/assets", tags=["assets"])

Ctx = Annotated[ServiceContext, Depends(context)]
AssetIdPath = Annotated[str, Path(pattern=ASSET_ID_PATTERN, description="asset tag, CI id, serial or a CMDB's id")]


class AssetView(AssetDetails):
    asset_id: str
    covered: bool = Field(description="whether an active contract covers it today (as last announced)")
    covered_since: dt.date | None
    version: int

    @classmethod
    def of(cls, asset: Asset) -> "AssetView":
        return cls(**dict(asset.details), asset_id=asset.id, covered=asset.covered,
                   covered_since=asset.covered_since, version=asset.version)


class AssetSummary(BaseModel):
    asset_id: str
    kind: AssetKind
    name: str
    model: str | None
    site: str | None
    criticality: Criticality
    owner: str | None
    covered: bool
    version: int


class AssetPage(BaseModel):
    items: list[AssetSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; none on the last page")


@router.put("/{asset_id:path}", response_model=AssetView, status_code=status.HTTP_200_OK,
            responses={201: {"model": AssetView, "description": "The asset was registered"}})
async def put_asset(asset_id: AssetIdPath, body: AssetBody, response: Response,
                    principal: Annotated[Principal, Depends(may_manage)], ctx: Ctx) -> AssetView:
    """Registers the asset (201) or revises it to these details (200; unchanged details record nothing)."""
    asset, outcome = await registry.register_asset(ctx.uow(principal), asset_id, body.details())
    if outcome == "created":
        response.status_code = status.HTTP_201_CREATED
    response.headers["Location"] = f"/api/v1/assets/{quote(asset_id, safe='')}"  # a '#' is no fragment
    with_version(response, asset.version)
    return AssetView.of(asset)


@router.get("", response_model=AssetPage, dependencies=[Depends(any_role)])
async def list_assets(
    ctx: Ctx,
    kind: Annotated[AssetKind | None, Query()] = None,
    site: Annotated[str | None, Query(max_length=200)] = None,
    criticality: Annotated[Criticality | None, Query()] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(pattern=ASSET_ID_PATTERN, description="next_cursor of the previous page")] = None,
    limit: Limit = 100,
) -> dict:
    """Assets by id, optionally of one kind, site, criticality or owner (all robots at Plant 4:
    `?kind=robot&site=Plant 4`)."""
    rows = await registry.list_assets(ctx.uow(), kind=kind, site=site, criticality=criticality, owner=owner,
                                      after=cursor, limit=limit)
    items = [AssetSummary.model_validate(row, from_attributes=True) for row in rows]
    return {"items": items, "next_cursor": items[-1].asset_id if len(items) == limit else None}


@router.get("/{asset_id:path}", response_model=AssetView, dependencies=[Depends(any_role)])
async def get_asset(asset_id: AssetIdPath, response: Response, ctx: Ctx) -> AssetView:
    asset = await registry.get_asset(ctx.uow(), asset_id)
    with_version(response, asset.version)
    return AssetView.of(asset)
