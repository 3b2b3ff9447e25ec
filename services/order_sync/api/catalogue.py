"""REST resources of the product catalogue: /api/v1/catalogue/{sku}, what each SKU entitles the
customer to. Phase 6's RACI: Sales Ops (R) and the contract manager (A) change it; everyone reads."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, field_validator

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import IfMatch, Limit, expected_version, with_version
from shared.events.catalogue import EntitlementTemplate
from services.order_sync.application import catalogue as use_cases
from services.order_sync.domain.catalogue import CatalogueEntry

router = APIRouter(prefix="/catalogue", tags=["catalogue"])
may_change = require_roles(Role.SALES_OPS, Role.CONTRACT_MANAGER)
Sku = Annotated[str, Path(min_length=1, max_length=64, description="letters, digits and - _ . /")]


class EntitlementTemplateIn(EntitlementTemplate):
    @field_validator("usage_limit", mode="before")
    @classmethod
    def _not_a_boolean(cls, value):
        if isinstance(value, bool):  # pydantic would read `true` as 1
            raise ValueError("a usage limit is a number")
        return value


class CatalogueMapping(BaseModel):
    product: str = Field(min_length=1, max_length=200)
    entitlements: list[EntitlementTemplateIn] = Field(min_length=1, max_length=50)

    def templates(self) -> list[EntitlementTemplate]:
        return [EntitlementTemplate(**e.model_dump()) for e in self.entitlements]


class CatalogueEntryView(BaseModel):
    sku: str
    version: int
    product: str
    entitlements: list[EntitlementTemplate]
    retired: bool
    published_by: str
    published_at: dt.datetime

    @classmethod
    def of(cls, entry: CatalogueEntry) -> "CatalogueEntryView":
        p = entry.published
        return cls(sku=entry.sku, version=entry.version, product=p.product, entitlements=p.entitlements,
                   retired=entry.retired, published_by=p.by, published_at=p.at)


class CatalogueSummary(BaseModel):
    sku: str
    version: int
    product: str
    retired: bool


class CataloguePage(BaseModel):
    items: list[CatalogueSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; none on the last page")


def _answer(response: Response, entry: CatalogueEntry) -> CatalogueEntryView:
    with_version(response, entry.version)
    return CatalogueEntryView.of(entry)


@router.get("", response_model=CataloguePage, dependencies=[Depends(any_role)])
async def list_catalogue(
    ctx: Annotated[ServiceContext, Depends(context)],
    retired: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")] = None,
    limit: Limit = 50,
) -> CataloguePage:
    rows = await use_cases.list_entries(ctx.uow(), retired=retired, after=cursor, limit=limit)
    items = [CatalogueSummary.model_validate(row, from_attributes=True) for row in rows]
    return CataloguePage(items=items, next_cursor=items[-1].sku if len(items) == limit else None)


@router.get("/{sku}", response_model=CatalogueEntryView, dependencies=[Depends(any_role)])
async def get_entry(sku: Sku, response: Response, ctx: Annotated[ServiceContext, Depends(context)]) -> CatalogueEntryView:
    return _answer(response, await use_cases.get_entry(ctx.uow(), sku))


@router.put("/{sku}", response_model=CatalogueEntryView)
async def publish_entry(
    sku: Sku, body: CatalogueMapping, response: Response,
    principal: Annotated[Principal, Depends(may_change)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> CatalogueEntryView:
    """Publishes a version of the SKU's mapping (the same mapping again changes nothing)."""
    entry, _ = await use_cases.publish_entry(
        ctx.uow(principal), sku, product=body.product, entitlements=body.templates(), by=principal.subject,
        at=ctx.clock.now(), expected_version=expected_version(if_match))
    return _answer(response, entry)


@router.post("/{sku}/retirement", response_model=CatalogueEntryView)
async def retire_entry(
    sku: Sku, response: Response,
    principal: Annotated[Principal, Depends(may_change)], ctx: Annotated[ServiceContext, Depends(context)],
    if_match: IfMatch = None,
) -> CatalogueEntryView:
    """New orders with the SKU fall out; service contracts that hold it stay as they are."""
    entry = await use_cases.retire_entry(ctx.uow(principal), sku, by=principal.subject, at=ctx.clock.now(),
                                         expected_version=expected_version(if_match))
    return _answer(response, entry)
