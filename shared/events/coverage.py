"""Events of operations (services/asset_coverage): which assets a contract covers."""

import datetime as dt
from uuid import UUID

from shared.events import topics
from shared.events.base import Event


class _CoverageEvent(Event):
    topic = topics.ASSET_COVERAGE
    source = "/services/asset_coverage"
    key_field = "contract_id"
    contract_id: UUID


class CoverageOpened(_CoverageEvent):
    """An active contract became available for asset links."""

    event_type = "CoverageOpened"
    start_date: dt.date
    end_date: dt.date


class AssetLinked(_CoverageEvent):
    """An asset (machine, CI, software) is covered by the contract."""

    event_type = "AssetLinked"
    asset_id: str
    asset_name: str
