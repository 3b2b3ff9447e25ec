"""The assets a contract covers: one link per asset, each with its own effective dates (None: the
contract's own start / end), within the contract's dates. A link is revised (dates, backdating
allowed), or removed as recorded in error; a renewal successor carries its predecessor's links."""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.aggregate import applies
from shared.backbone.errors import NotFound, invalid
from shared.events.coverage import AssetLinked, AssetLinkRevised, AssetUnlinked
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.operational_contract.terms import ContractTerms

LINK_EVENTS = (AssetLinked, AssetLinkRevised, AssetUnlinked)


def changes_of(events: list) -> tuple[bool, set[str]]:
    """Whether the events change the contract's own facts, and the assets whose links they change."""
    assets = {e.asset_id for e in events if isinstance(e, LINK_EVENTS)}
    return any(not isinstance(e, LINK_EVENTS) for e in events), assets


@dataclass(frozen=True)
class Link:
    asset_id: str
    asset_name: str
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    carried_from: UUID | None = None


@dataclass(frozen=True)
class LinkRequest:
    """One asset to link, with its own dates (None: the contract's start / end)."""

    asset_id: str
    asset_name: str
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None


class Links(ContractTerms):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.links: dict[str, Link] = {}

    def link_asset(self, asset_id: str, asset_name: str, effective_from: dt.date | None = None,
                   effective_to: dt.date | None = None, carried_from: UUID | None = None) -> bool:
        """Links the asset; False when it was already linked so (a retry changes nothing). Linking an
        asset already linked with other dates revises the link's dates."""
        self.require_open()
        self._check_within_contract(effective_from, effective_to)
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

    def link_assets(self, requests: list[LinkRequest]) -> list[str]:
        """Links each (all or none: a request breaking a rule refuses the whole list); the ids whose
        link changed."""
        self.require_open()
        for r in requests:
            self._check_within_contract(r.effective_from, r.effective_to)
        return [r.asset_id for r in requests
                if self.link_asset(r.asset_id, r.asset_name, r.effective_from, r.effective_to)]

    def revise_link(self, asset_id: str, effective_from: dt.date | None, effective_to: dt.date | None) -> bool:
        """New dates for an existing link (backdated allowed); False when they are the same."""
        self.require_open()
        current = self._link(asset_id)
        self._check_within_contract(effective_from, effective_to)
        if (current.effective_from, current.effective_to) == (effective_from, effective_to):
            return False
        self.record(AssetLinkRevised(contract_id=UUID(self.id), asset_id=asset_id,
                                     effective_from=effective_from, effective_to=effective_to))
        return True

    def unlink(self, asset_id: str, reason: str | None = None) -> None:
        """The link was recorded in error: as if it never covered the asset."""
        self.require_open()
        self._link(asset_id)
        self.record(AssetUnlinked(contract_id=UUID(self.id), asset_id=asset_id, reason=reason))

    def carry_links_from(self, predecessor: "Links") -> list[str]:
        """A renewal successor takes its predecessor's links, dated from its own start (to its own end);
        links of the predecessor that ended before its end are not carried. The ids carried."""
        self.require_open()
        carried = []
        for link in predecessor.links.values():
            if link.effective_to is not None and predecessor.end_date is not None and link.effective_to < predecessor.end_date:
                continue  # the link ended during the predecessor's term: it does not renew
            if link.asset_id in self.links:
                continue
            self.record(AssetLinked(contract_id=UUID(self.id), asset_id=link.asset_id, asset_name=link.asset_name,
                                    carried_from=UUID(predecessor.id)))
            carried.append(link.asset_id)
        return carried

    def _link(self, asset_id: str) -> Link:
        link = self.links.get(asset_id)
        if link is None:
            raise NotFound("link", f"{self.id}/{asset_id}", field="asset_id")
        return link

    def _check_within_contract(self, effective_from: dt.date | None, effective_to: dt.date | None) -> None:
        if effective_from is not None and effective_to is not None and effective_to < effective_from:
            raise invalid(rules.DATES_END_BEFORE_START, "effective_to is before effective_from", field="effective_to")
        for name, date in (("effective_from", effective_from), ("effective_to", effective_to)):
            if date is None or self.start_date is None or self.end_date is None:
                continue
            if not self.start_date <= date <= self.end_date:
                raise invalid(rules.LINK_WITHIN_CONTRACT,
                              f"{name} {date} is outside the contract's dates {self.start_date}..{self.end_date}",
                              field=name)

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
