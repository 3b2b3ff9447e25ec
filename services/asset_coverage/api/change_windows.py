"""REST resources of change windows: /api/v1/change-windows, planned maintenance on assets or a site.

Every answer carries the window, its version (also as ETag) and the windows it overlaps now; send
`If-Match: <version>` with a revision or a cancel to refuse it with 409 if the window moved on."""

import datetime as dt
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import (
    Cursor, IfMatch, Instant, Limit, Page, answer_created, expected_version, page_of, replayed, with_version,
)
from shared.events.assets import ASSET_ID_PATTERN
from shared.events.change_windows import ChangeWindowPlan
from services.asset_coverage.application import change_windows as use_cases
from services.asset_coverage.domain.change_window import ChangeWindow, Overlap

router = APIRouter(prefix="/change-windows", tags=["change windows"])

# docs/design/operations.md, "Who may change what": change windows are IT/OT's.
may_plan = require_roles(Role.ASSET_MANAGER)


class NewChangeWindow(ChangeWindowPlan):
    window_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    starts_at: Instant
    ends_at: Instant


class ChangeWindowChanges(BaseModel):
    """The fields to change; those not sent stay as they are (null clears an optional one)."""

    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=4000)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    time_zone: str | None = Field(None, max_length=64)
    asset_ids: list[Annotated[str, Field(pattern=ASSET_ID_PATTERN)]] | None = Field(None, max_length=500)
    site: str | None = Field(None, min_length=1, max_length=200)
    contract_id: UUID | None = None
    vendor: str | None = Field(None, max_length=200)
    owner: str | None = Field(None, max_length=200)


class Cancellation(BaseModel):
    reason: str | None = Field(None, max_length=500)


class OverlapView(BaseModel):
    window_id: UUID = Field(description="the other window")
    shared_asset_ids: list[str]
    shared_site: str | None


class ChangeWindowView(ChangeWindowPlan):
    window_id: UUID
    canceled: bool
    canceled_at: dt.datetime | None
    overlaps: list[OverlapView] = Field(description="the non-canceled windows this one overlaps now")
    version: int

    @classmethod
    def of(cls, window: ChangeWindow, overlaps: list[tuple[UUID, Overlap]]) -> "ChangeWindowView":
        return cls(
            **dict(window.plan), window_id=window.window_id, canceled=window.canceled, canceled_at=window.canceled_at,
            overlaps=[OverlapView(window_id=w, shared_asset_ids=list(o.asset_ids), shared_site=o.site) for w, o in overlaps],
            version=window.version,
        )


class ChangeWindowSummary(BaseModel):
    window_id: UUID
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    asset_ids: list[str]
    site: str | None
    owner: str | None
    contract_id: UUID | None
    vendor: str | None
    canceled: bool
    version: int


Ctx = Annotated[ServiceContext, Depends(context)]
Planner = Annotated[Principal, Depends(may_plan)]


async def _answer(response: Response, ctx: ServiceContext, window_id: UUID) -> ChangeWindowView:
    window, overlaps = await use_cases.get_window(ctx.uow(), window_id)
    with_version(response, window.version)
    return ChangeWindowView.of(window, overlaps)


def _plan(body: ChangeWindowPlan) -> ChangeWindowPlan:
    return ChangeWindowPlan.model_validate(body.model_dump(include=set(ChangeWindowPlan.model_fields)))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChangeWindowView,
             responses=replayed(ChangeWindowView))
async def plan_window(body: NewChangeWindow, response: Response, principal: Planner, ctx: Ctx) -> ChangeWindowView:
    """Plans a window on assets and/or a site. Windows it overlaps (a common asset or the same site,
    intersecting times, neither canceled) are flagged on both. Retrying with the same `window_id`
    and plan answers 200; another plan under that id is refused with 409 `change_window.already_exists`."""
    window_id = body.window_id or uuid4()
    _, is_new = await use_cases.plan_window(ctx.uow(principal), window_id, _plan(body))
    answer_created(response, f"/api/v1/change-windows/{window_id}", is_new)
    return await _answer(response, ctx, window_id)


@router.get("", response_model=Page[ChangeWindowSummary], dependencies=[Depends(any_role)])
async def list_windows(
    ctx: Ctx,
    asset_id: Annotated[str | None, Query(max_length=128)] = None,
    site: Annotated[str | None, Query(max_length=200)] = None,
    from_: Annotated[Instant | None, Query(alias="from", description="windows ending after this instant")] = None,
    to: Annotated[Instant | None, Query(description="windows starting before this instant")] = None,
    overlapping: Annotated[bool | None, Query(description="only windows that overlap another (true) or none (false)")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    """Change windows by window id, canceled ones included (`canceled`)."""
    rows = await use_cases.list_windows(ctx.uow(), asset_id=asset_id, site=site, starting_before=to, ending_after=from_,
                                        overlapping=overlapping, after=cursor, limit=limit)
    return page_of([ChangeWindowSummary.model_validate(row, from_attributes=True) for row in rows], limit,
                   key=lambda w: w.window_id)


@router.get("/{window_id}", response_model=ChangeWindowView, dependencies=[Depends(any_role)])
async def get_window(window_id: UUID, response: Response, ctx: Ctx) -> ChangeWindowView:
    return await _answer(response, ctx, window_id)


@router.patch("/{window_id}", response_model=ChangeWindowView)
async def revise_window(window_id: UUID, body: ChangeWindowChanges, response: Response, principal: Planner, ctx: Ctx,
                        if_match: IfMatch = None) -> ChangeWindowView:
    """Changes the fields sent; overlaps are found afresh for the revised plan."""
    await use_cases.revise_window(ctx.uow(principal), window_id, body.model_dump(exclude_unset=True),
                                  expected_version(if_match))
    return await _answer(response, ctx, window_id)


@router.post("/{window_id}/cancel", response_model=ChangeWindowView)
async def cancel_window(window_id: UUID, body: Cancellation, response: Response, principal: Planner, ctx: Ctx,
                        if_match: IfMatch = None) -> ChangeWindowView:
    """The window will not take place; it overlaps nothing any more. Canceling again changes nothing."""
    await use_cases.cancel_window(ctx.uow(principal), window_id, body.reason, ctx.clock.now(), expected_version(if_match))
    return await _answer(response, ctx, window_id)
