"""Events of what contracts cover (services/asset_coverage): assets, configuration items, services
and software entitlements, keyed by the id operations knows them by (asset tag, CI id, serial,
an external CMDB's id as it is), and whether each is covered by a contract today."""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from shared.events import topics
from shared.events.base import MAX_QUANTITY, Event

# Letters, digits and . _ : / # - (no spaces): ids appear in URLs, spreadsheets and CMDB exports.
ASSET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,127}$"
AssetId = str

AssetKind = Literal[
    "robot", "cnc_machine", "plc", "server", "network_device", "workstation", "configuration_item",
    "software", "service", "other",
]
Criticality = Literal["low", "medium", "high", "critical"]
# Licence metrics after ISO/IEC 19770-3's entitlement records (what a software quantity counts).
LicenceMetric = Literal["device", "user", "named_user", "concurrent_user", "core", "processor", "server",
                        "site", "subscription", "enterprise"]


class AssetDetails(BaseModel):
    """What operations records of a covered item; the licence fields only for software."""

    kind: AssetKind
    name: str = Field(min_length=1, max_length=300)
    model: str | None = Field(default=None, max_length=200)
    site: str | None = Field(default=None, max_length=200, examples=["Plant 4"])
    criticality: Criticality = "medium"
    owner: str | None = Field(default=None, max_length=200, description="user id or e-mail of the owner")
    licence_metric: LicenceMetric | None = None
    licence_quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)

    @model_validator(mode="after")
    def _licence_only_for_software(self) -> "AssetDetails":
        if self.kind != "software" and (self.licence_metric is not None or self.licence_quantity is not None):
            raise ValueError("licence_metric and licence_quantity are for software only")
        return self


class _AssetEvent(Event):
    topic = topics.ASSET_COVERAGE_ASSETS
    source = "/services/asset_coverage"
    key_field = "asset_id"
    asset_id: AssetId = Field(pattern=ASSET_ID_PATTERN)


class AssetRegistered(_AssetEvent):
    """An asset, CI, service or software entitlement was recorded (through the API or an import)."""

    event_type = "AssetRegistered"
    details: AssetDetails


class AssetRevised(_AssetEvent):
    """Details of the asset changed: all of them as they are now, and the names of those that changed."""

    event_type = "AssetRevised"
    details: AssetDetails
    changed: list[str]


LapseReason = Literal["contract_expired", "contract_canceled", "link_ended", "link_changed", "contract_changed"]


class CoverageLapsed(_AssetEvent):
    """The asset lost its last covering contract: from `on` no active contract covers it."""

    event_type = "CoverageLapsed"
    on: dt.date
    last_contract_id: UUID | None = Field(description="the contract whose coverage ended last")
    reason: LapseReason


class CoverageRestored(_AssetEvent):
    """The asset is covered again (or for the first time, after a lapse): from `on`, by `contract_ids`."""

    event_type = "CoverageRestored"
    on: dt.date
    contract_ids: list[UUID]
