"""REST resources of the renewal calendar's feeds: /api/v1/calendar-feeds (a caller's feed
subscriptions) and /api/v1/calendar/{token}.ics (the feed itself, for calendar clients: the token
is the credential, since they cannot send a bearer header)."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role
from shared.backbone.calendar_feeds import ICS_MEDIA_TYPE, Feed
from shared.backbone.errors import Forbidden, invalid
from shared.backbone.rest import Cursor, Limit, Page, page_of
from services.projection.application import calendar_feeds as use_cases
from services.projection.application.calendar_feeds import ScopeKind
from services.projection.domain import rules

router = APIRouter(tags=["renewal calendar"])

Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[Principal, Depends(any_role)]


class NewFeed(BaseModel):
    scope: ScopeKind = Field(description="user: the dates and obligations a user owns (by id, e-mail or role); "
                                         "contract: one contract's")
    value: str = Field(min_length=1, max_length=200, description="the user id (yours unless you are a contract "
                       "manager), or the contract id", examples=["sales-ann"])


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
    """A new feed and its subscription URL. A user's feed is only for yourself, unless you are a
    contract manager (403 `calendar_feed.user_only_self`); it matches your id and the roles you hold
    now (`role:<name>` owners). A contract feed's value is a contract id (422
    `calendar_feed.contract_id_invalid`). The URL is answered once: keep it, or revoke the feed and
    create another."""
    roles: list[str] = []
    value = body.value
    if body.scope == "user":
        if body.value == principal.subject:
            roles = sorted(principal.roles)
        elif Role.CONTRACT_MANAGER not in principal.roles:
            raise Forbidden(rules.FEED_USER_ONLY_SELF, "a user's calendar feed is for that user (or a contract manager)",
                            field="value")
    else:
        try:
            value = str(UUID(body.value))
        except ValueError:
            raise invalid(rules.FEED_CONTRACT_ID, "a contract feed's value is the contract's id", field="value") from None
    feed, token = await use_cases.create_feed(ctx.engine, body.scope, value, principal.subject, roles,
                                              ctx.clock.now())
    response.headers["Location"] = f"/api/v1/calendar-feeds/{feed.feed_id}"
    url = str(request.base_url).rstrip("/") + f"/api/v1/calendar/{token}.ics"
    return CreatedFeed(**FeedView.of(feed).model_dump(), token=token, url=url)


@router.get("/calendar-feeds", response_model=Page[FeedView])
async def list_feeds(principal: Caller, ctx: Ctx, cursor: Cursor = None, limit: Limit = 50) -> dict:
    """Your feeds (revoked ones included), by feed id; their tokens are not shown again."""
    feeds = await use_cases.feeds_of(ctx.engine, principal.subject, cursor, limit)
    return page_of([FeedView.of(f) for f in feeds], limit, key=lambda f: f.feed_id)


@router.delete("/calendar-feeds/{feed_id}", response_model=FeedView)
async def revoke_feed(feed_id: UUID, principal: Caller, ctx: Ctx) -> FeedView:
    """Revokes one of your feeds (a contract manager: anyone's): its URL answers 404 from now on;
    another user's feed is 404 `calendar_feed.not_found`."""
    feed = await use_cases.revoke_feed(ctx.engine, feed_id, principal.subject,
                                       Role.CONTRACT_MANAGER in principal.roles, ctx.clock.now())
    return FeedView.of(feed)


ICS_RESPONSE = {200: {"content": {"text/calendar": {"schema": {"type": "string"}}},
                      "description": "The feed (RFC 5545): all-day VEVENTs of cancel-by and end dates with a "
                                     "VALARM per reminder offset; VTODOs of obligation occurrences"}}


@router.get("/calendar/{token}.ics", response_class=Response, responses=ICS_RESPONSE)
async def calendar_feed(token: Annotated[str, Path(min_length=1, max_length=200, pattern="^[A-Za-z0-9_-]+$")],
                        ctx: Ctx) -> Response:
    """The feed a token opens, unauthenticated by bearer: the token in the URL is the credential.
    An unknown and a revoked token both answer 404 `calendar_feed.not_found`."""
    body = await use_cases.render_feed(ctx.engine, token, ctx.clock.now())
    return Response(content=body, media_type=ICS_MEDIA_TYPE, headers={"Cache-Control": "private, max-age=300"})
