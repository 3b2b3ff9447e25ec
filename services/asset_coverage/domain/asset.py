"""What contracts cover: an asset, CI, service or software entitlement, keyed by the id operations
knows it by, and whether a contract covers it today (CoverageLapsed / CoverageRestored)."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.assets import AssetDetails, AssetRegistered, AssetRevised, CoverageLapsed, CoverageRestored, LapseReason


class Asset(Aggregate):
    stream_type = "asset"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.details: AssetDetails | None = None
        self.covered: bool = False  # as last announced: a new asset is uncovered until linked
        self.covered_since: dt.date | None = None

    @classmethod
    def register(cls, asset_id: str, details: AssetDetails) -> "Asset":
        asset = cls(asset_id)
        asset.record(AssetRegistered(asset_id=asset_id, details=details))
        return asset

    def revise(self, details: AssetDetails) -> bool:
        """False when nothing changed (a re-imported row changes nothing)."""
        changed = [name for name in AssetDetails.model_fields if getattr(details, name) != getattr(self.details, name)]
        if changed:
            self.record(AssetRevised(asset_id=self.id, details=details, changed=changed))
        return bool(changed)

    def lapse(self, on: dt.date, last_contract_id: UUID | None, reason: LapseReason) -> bool:
        if not self.covered:
            return False
        self.record(CoverageLapsed(asset_id=self.id, on=on, last_contract_id=last_contract_id, reason=reason))
        return True

    def restore(self, on: dt.date, contract_ids: list[UUID]) -> bool:
        if self.covered:
            return False
        self.record(CoverageRestored(asset_id=self.id, on=on, contract_ids=contract_ids))
        return True

    @applies
    def _on_registered(self, event: AssetRegistered) -> None:
        self.details = event.details

    @applies
    def _on_revised(self, event: AssetRevised) -> None:
        self.details = event.details

    @applies
    def _on_lapsed(self, event: CoverageLapsed) -> None:
        self.covered, self.covered_since = False, None

    @applies
    def _on_restored(self, event: CoverageRestored) -> None:
        self.covered, self.covered_since = True, event.on
