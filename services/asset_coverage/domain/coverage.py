"""What an active contract covers in operations: the assets linked to it."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.coverage import AssetLinked, CoverageOpened


class Coverage(Aggregate):
    """One per contract, opened when the contract is activated; keyed by the contract id."""

    stream_type = "coverage"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.start_date: dt.date | None = None
        self.end_date: dt.date | None = None
        self.assets: dict[str, str] = {}

    @classmethod
    def open(cls, contract_id: UUID, start_date: dt.date, end_date: dt.date) -> "Coverage":
        coverage = cls(str(contract_id))
        coverage.record(CoverageOpened(contract_id=contract_id, start_date=start_date, end_date=end_date))
        return coverage

    def link_asset(self, asset_id: str, asset_name: str) -> bool:
        """Links the asset; False when it was already linked (a retry changes nothing)."""
        if asset_id in self.assets:
            return False
        self.record(AssetLinked(contract_id=UUID(self.id), asset_id=asset_id, asset_name=asset_name))
        return True

    @applies
    def _on_coverage_opened(self, event: CoverageOpened) -> None:
        self.start_date, self.end_date = event.start_date, event.end_date

    @applies
    def _on_asset_linked(self, event: AssetLinked) -> None:
        self.assets[event.asset_id] = event.asset_name
