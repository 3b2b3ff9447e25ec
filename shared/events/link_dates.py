"""Events of the scheduler's link-date timers (docs/design/operations.md): a link's future start or
its end passed, so the asset's coverage may change on that date. Keyed by the link's id,
`link_id(contract_id, asset_id)`."""

import datetime as dt
from typing import Literal
from uuid import UUID, uuid5

from pydantic import Field

from shared.events import topics
from shared.events.base import Event

# A link's id (for its timers and reports): uuid5 of "<contract id>/<asset id>".
LINK_NAMESPACE = UUID("0b3f5a2e-8c41-5f6d-a7e9-3d2c1b0a9f84")


def link_id(contract_id: UUID | str, asset_id: str) -> UUID:
    return uuid5(LINK_NAMESPACE, f"{contract_id}/{asset_id}")


class AssetLinkDateReached(Event):
    """A link's effective_from began, or the day after its effective_to began, in the contract's zone.
    asset_coverage answers by evaluating the asset's coverage for `on` (CoverageLapsed / CoverageRestored)."""

    event_type = "AssetLinkDateReached"
    topic = topics.LIFECYCLE_LINK_DATES
    source = "/services/lifecycle_scheduler"
    key_field = "link_id"
    link_id: UUID
    contract_id: UUID
    asset_id: str = Field(min_length=1, max_length=128)
    which: Literal["start", "end"] = Field(description="start: effective_from began; end: effective_to ended")
    on: dt.date = Field(description="the first day with the new coverage: effective_from, or the day after effective_to")
    reached_at: dt.datetime
