"""The product catalogue: what a SKU entitles the customer to (support level, SLA, features,
usage limits). One stream per SKU (`catalogue_entry`, keyed by the SKU). Publishing a new version
replaces the mapping (the same mapping again changes nothing); retiring stops new orders of it;
publishing a retired SKU again brings it back."""

import datetime as dt
import re

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState, invalid
from shared.events.catalogue import CatalogueEntryPublished, CatalogueEntryRetired, EntitlementTemplate
from services.order_sync.domain import rules

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


class CatalogueEntry(Aggregate):
    stream_type = "catalogue_entry"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.published: CatalogueEntryPublished | None = None
        self.retired = False

    @property
    def sku(self) -> str:
        return self.id

    @property
    def entry_version(self) -> int:
        return self.version  # each event is a version of the entry

    def publish(self, *, product: str, entitlements: list[EntitlementTemplate], by: str, at: dt.datetime) -> bool:
        """Whether a version was published (False: the same mapping again, nothing changes)."""
        if not SKU.match(self.sku):
            raise invalid(rules.CATALOGUE_SKU_INVALID, f"{self.sku!r} is not a SKU", field="sku")
        if not entitlements:
            raise invalid(rules.CATALOGUE_ENTITLEMENTS_EMPTY, "a SKU grants at least one entitlement", field="entitlements")
        names = [e.name for e in entitlements]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise invalid(rules.CATALOGUE_ENTITLEMENT_DUPLICATE, f"entitlement {name!r} appears twice",
                              field=f"entitlements[{i}].name")
        current = self.published
        if current and not self.retired and (current.product, current.entitlements) == (product, entitlements):
            return False
        self.record(CatalogueEntryPublished(sku=self.sku, version=self.version + 1, product=product,
                                            entitlements=entitlements, by=by, at=at))
        return True

    def retire(self, *, by: str, at: dt.datetime) -> None:
        """Retiring a retired SKU again changes nothing."""
        if self.published is None:
            raise ConflictingState(rules.CATALOGUE_RETIRE_ONLY_PUBLISHED, f"SKU {self.sku} was never published", field="sku")
        if not self.retired:
            self.record(CatalogueEntryRetired(sku=self.sku, version=self.version + 1, by=by, at=at))

    @applies
    def _on_published(self, event: CatalogueEntryPublished) -> None:
        self.published = event
        self.retired = False

    @applies
    def _on_retired(self, event: CatalogueEntryRetired) -> None:
        self.retired = True
