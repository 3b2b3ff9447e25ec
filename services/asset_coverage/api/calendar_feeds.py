"""REST resources of calendar feeds: /api/v1/calendar-feeds (a caller's feed subscriptions) and
/api/v1/calendar/{token}.ics (the feed itself, for calendar clients: the token is the credential,
since they cannot send a bearer header)."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role
from shared.backbone.calendar_feeds import ICS_MEDIA_TYPE, Feed
from shared.backbone.rest import Cursor, Limit, Page, page_of
from services.asset_coverage.application import calendar_feeds as use_cases
from services.asset_coverage.application.calendar_feeds import ScopeKind
from services.asset_coverage.domain import rules

router = APIRouter(tags=["calendar feeds"])

Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[Principal, Depends(any_role)]


class NewFeed(BaseModel):
    scope: ScopeKind = Field(description="site: a site's change windows and renewal deadlines; owner: an owner's")
    value: str = Field(min_length=1, max_length=200, description="the site, or the owner (user id or e-mail)",
                       examples=["Plant 4"])


class FeedView(BaseModel):
    feed_id: UUID
    scope: ScopeKind
    value: str
    owner: str = Field(description="who created the feed")
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, feed: Feed) -> "FeedView":
        return cls(feed_id=feed.feed_id, scope=feed.scope_kind, value=feed.scope_value, owner=feed.owner,
                   created_at=feed.created_at, revoked_at=feed.revoked_at)


class CreatedFeed(FeedView):
    url: str = Field(description="the subscription URL, token included: shown this once, never again")
    token: str


@router.post("/calendar-feeds", status_code=status.HTTP_201_CREATED, response_model=CreatedFeed)
async def create_feed(body: NewFeed, request: Request, response: Response, principal: Caller, ctx: Ctx) -> CreatedFeed:
    """A new feed and its subscription URL. An owner's feed is only for yourself, unless you are an
    asset manager (403 `feed.owner_only_self`). The URL is answered once: keep it, or revoke the
    feed and create another."""
    if body.scope == "owner" and body.value != principal.subject and Role.ASSET_MANAGER not in principal.roles:
        raise HTTPException(403, detail={"rule": rules.FEED_OWNER_ONLY_SELF,
                                         "message": "an owner's calendar feed is for that owner (or an asset manager)"})
    feed, token = await use_cases.create_feed(ctx.uow(principal), body.scope, body.value, principal.subject,
                                              ctx.clock.now())
    path = f"/api/v1/calendar/{token}.ics"
    response.headers["Location"] = f"/api/v1/calendar-feeds/{feed.feed_id}"
    return CreatedFeed(**FeedView.of(feed).model_dump(), token=token, url=str(request.base_url).rstrip("/") + path)


@router.get("/calendar-feeds", response_model=Page[FeedView])
async def list_feeds(principal: Caller, ctx: Ctx, cursor: Cursor = None, limit: Limit = 50) -> dict:
    """Your feeds (revoked ones included), by feed id; their tokens are not shown again."""
    feeds = await use_cases.feeds_of(ctx.uow(), principal.subject, cursor, limit)
    return page_of([FeedView.of(f) for f in feeds], limit, key=lambda f: f.feed_id)


@router.delete("/calendar-feeds/{feed_id}", response_model=FeedView)
async def revoke_feed(feed_id: UUID, principal: Caller, ctx: Ctx) -> FeedView:
    """Revokes one of your feeds (an asset manager: anyone's): its URL answers 404 from now on."""
    feed = await use_cases.revoke_feed(ctx.uow(principal), feed_id, principal.subject,
                                       Role.ASSET_MANAGER in principal.roles, ctx.clock.now())
    return FeedView.of(feed)


ICS_RESPONSE = {200: {"content": {"text/calendar": {"schema": {"type": "string"}}},
                      "description": "The feed (RFC 5545): VEVENTs of change windows; VTODOs with VALARMs and "
                                     "all-day VEVENTs of renewal deadlines"}}


@router.get("/calendar/{token}.ics", response_class=Response, responses=ICS_RESPONSE)
async def calendar_feed(token: Annotated[str, Path(min_length=1, max_length=200)], ctx: Ctx) -> Response:
    """The feed a token opens, unauthenticated by bearer: the token in the URL is the credential.
    An unknown and a revoked token both answer 404 `calendar_feed.not_found`."""
    offsets = ctx.settings.renewal_offsets()
    body = await use_cases.render_feed(ctx.uow(), token, offsets, ctx.clock.now())
    return Response(content=body, media_type=ICS_MEDIA_TYPE, headers={"Cache-Control": "private, max-age=300"})
