"""Use cases of the catalogue: publish a version of a SKU's mapping, retire it, read it. Each in
one unit of work with the catalogue's query table (application/indexing.py)."""

import datetime as dt

from shared.backbone.errors import ConcurrencyConflict, NotFound
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.catalogue import EntitlementTemplate
from services.order_sync.application.indexing import commit
from services.order_sync.domain.catalogue import CatalogueEntry


async def publish_entry(uow: UnitOfWork, sku: str, *, product: str, entitlements: list[EntitlementTemplate],
                        by: str, at: dt.datetime, expected_version: int | None = None) -> tuple[CatalogueEntry, bool]:
    """PUT: (entry, whether a new version was published). The same mapping again is a no-op."""
    async with uow:
        entry = await uow.get(CatalogueEntry, sku)
        if expected_version is not None and expected_version != (entry.version if entry else 0):
            raise ConcurrencyConflict(sku, expected_version, entry.version if entry else 0)
        is_new = entry is None
        entry = entry or CatalogueEntry(sku)
        changed = entry.publish(product=product, entitlements=entitlements, by=by, at=at)
        if is_new:
            uow.add(entry)
        await commit(uow)
        return entry, changed


async def retire_entry(uow: UnitOfWork, sku: str, *, by: str, at: dt.datetime,
                       expected_version: int | None = None) -> CatalogueEntry:
    async with uow:
        entry = await uow.require(CatalogueEntry, sku, "catalogue_entry", expected_version)
        entry.retire(by=by, at=at)
        await commit(uow)
        return entry


async def get_entry(uow: UnitOfWork, sku: str) -> CatalogueEntry:
    async with uow:
        entry = await uow.get(CatalogueEntry, sku)
        if entry is None or entry.published is None:
            raise NotFound("catalogue_entry", sku)
        return entry


async def list_entries(uow: UnitOfWork, *, retired: bool | None, after: str | None, limit: int) -> list:
    async with uow:
        return await uow.views.catalogue(retired=retired, after=after, limit=limit)
