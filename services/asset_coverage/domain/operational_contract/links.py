"""The assets a contract covers: one link per asset, each with its own effective dates (None: the
contract's own start / end)."""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.aggregate import applies
from shared.events.coverage import AssetLinked, AssetLinkRevised, AssetUnlinked
from services.asset_coverage.domain.operational_contract.terms import ContractTerms


@dataclass(frozen=True)
class Link:
    asset_id: str
    asset_name: str
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    carried_from: UUID | None = None


class Links(ContractTerms):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.links: dict[str, Link] = {}

    def link_asset(self, asset_id: str, asset_name: str, effective_from: dt.date | None = None,
                   effective_to: dt.date | None = None, carried_from: UUID | None = None) -> bool:
        """Links the asset; False when it was already linked so (a retry changes nothing)."""
        self.require_open()
        current = self.links.get(asset_id)
        if current is not None and (current.effective_from, current.effective_to) == (effective_from, effective_to):
            return False
        if current is not None:
            self.record(AssetLinkRevised(contract_id=UUID(self.id), asset_id=asset_id,
                                         effective_from=effective_from, effective_to=effective_to))
        else:
            self.record(AssetLinked(contract_id=UUID(self.id), asset_id=asset_id, asset_name=asset_name,
                                    effective_from=effective_from, effective_to=effective_to,
                                    carried_from=carried_from))
        return True

    @applies
    def _on_asset_linked(self, event: AssetLinked) -> None:
        self.links[event.asset_id] = Link(event.asset_id, event.asset_name, event.effective_from,
                                          event.effective_to, event.carried_from)

    @applies
    def _on_link_revised(self, event: AssetLinkRevised) -> None:
        link = self.links[event.asset_id]
        self.links[event.asset_id] = Link(link.asset_id, link.asset_name, event.effective_from, event.effective_to,
                                          link.carried_from)

    @applies
    def _on_unlinked(self, event: AssetUnlinked) -> None:
        self.links.pop(event.asset_id, None)
