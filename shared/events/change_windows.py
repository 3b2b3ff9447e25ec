"""Events of change windows (services/asset_coverage): planned maintenance on assets or a site (a
vendor's visit, a firmware roll-out), keyed by window_id. Two non-canceled windows whose intervals
intersect on a common asset or the same site overlap; each is told so (ChangeWindowOverlapFlagged)."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from shared.events import topics
from shared.events.assets import ASSET_ID_PATTERN
from shared.events.base import Event

MAX_WINDOW_ASSETS = 500


class ChangeWindowPlan(BaseModel):
    """What a change window is: when (instants with their offset), on what, and who runs it."""

    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    time_zone: str = Field(default="UTC", max_length=64, description="IANA zone the window is planned in")
    asset_ids: list[Annotated[str, Field(pattern=ASSET_ID_PATTERN)]] = Field(default_factory=list, max_length=MAX_WINDOW_ASSETS)
    site: str | None = Field(default=None, min_length=1, max_length=200, examples=["Plant 4"])
    contract_id: UUID | None = Field(default=None, description="the contract under which the work is done")
    vendor: str | None = Field(default=None, max_length=200)
    owner: str | None = Field(default=None, max_length=200, description="user id or e-mail of who runs it")

    @field_validator("asset_ids")
    @classmethod
    def _asset_ids(cls, ids: list[str]) -> list[str]:
        return sorted(set(ids))  # a set: the same asset twice is once


class _ChangeWindowEvent(Event):
    topic = topics.ASSET_COVERAGE_CHANGE_WINDOWS
    source = "/services/asset_coverage"
    key_field = "window_id"
    window_id: UUID


class ChangeWindowPlanned(_ChangeWindowEvent):
    """A change window was planned on assets and/or a site."""

    event_type = "ChangeWindowPlanned"
    plan: ChangeWindowPlan


class ChangeWindowRevised(_ChangeWindowEvent):
    """The window's plan changed: all of it as it is now, and the names of the fields that changed."""

    event_type = "ChangeWindowRevised"
    plan: ChangeWindowPlan
    changed: list[str]


class ChangeWindowCanceled(_ChangeWindowEvent):
    """The window will not take place. Terminal; it overlaps nothing any more."""

    event_type = "ChangeWindowCanceled"
    reason: str | None = None
    canceled_at: dt.datetime


class ChangeWindowOverlapFlagged(_ChangeWindowEvent):
    """This window overlaps `other_window_id` in time on the assets listed and/or their common site
    (recorded on both windows, once per pair while they overlap)."""

    event_type = "ChangeWindowOverlapFlagged"
    other_window_id: UUID
    shared_asset_ids: list[str]
    shared_site: str | None = None
