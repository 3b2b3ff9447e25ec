"""Order sync's query tables (adapters/indexes.py) follow its aggregates in the same transaction:
every use case and event handler ends with `commit` (or `save_indexes` inside a consumer's unit of
work), so a query never sees an aggregate state that was not committed, nor misses one that was. The
views may keep writes back until commit (`flush()`, awaited by the unit of work before the
append); their reads in the same transaction still see what was saved (adapters/indexes.py)."""

import datetime as dt
from typing import Protocol
from uuid import UUID

from shared.backbone.unit_of_work import UnitOfWork
from services.order_sync.domain.catalogue import CatalogueEntry
from services.order_sync.domain.install_base import InstallBaseItem, OwnedProduct, SoldProduct
from services.order_sync.domain.order import Order
from services.order_sync.domain.quote import Quote, QuoteState
from services.order_sync.domain.service_contract import ServiceContract


class Indexes(Protocol):
    """The query tables in a unit of work's transaction: adapters.indexes.SqlIndexes in the
    service (main.py gives it as the unit of work's `views`), MemoryIndexes in unit tests."""

    async def save_contract(self, contract: ServiceContract) -> None: ...

    async def flush(self) -> None:
        """Writes what the saves kept back; the unit of work awaits it at commit."""

    async def save_product(self, product: OwnedProduct) -> None: ...

    async def save_quote(self, quote: Quote) -> None: ...

    async def save_order(self, order: Order) -> None: ...

    async def save_catalogue_entry(self, entry: CatalogueEntry) -> None: ...

    async def catalogue(self, *, retired: bool | None, after: str | None, limit: int) -> list: ...

    async def orders(self, *, fallout: bool | None, after: UUID | None, limit: int) -> list: ...

    async def orders_with_fallout_on(self, sku: str) -> list[UUID]: ...

    async def quotes(
        self, *, state: QuoteState | None, account_id: str | None, opportunity_id: str | None, after: UUID | None,
        limit: int,
    ) -> list:
        """Rows of quote_index (its columns as attributes), by quote id from after `after`; a filter
        given None matches any."""

    async def contracts_covering(self, product_id: UUID) -> list[UUID]: ...

    async def suspended_among(self, product_ids: set[UUID]) -> set[UUID]: ...

    async def entitlements_for(
        self, *, name: str, on: dt.date, account: str | None, covering: UUID | None,
    ) -> list:
        """Rows of entitlement_index (its columns as attributes), by contract number."""


def indexes(uow: UnitOfWork) -> Indexes:
    return uow.views


async def save_indexes(uow: UnitOfWork) -> None:
    """Brings the query tables in line with the aggregates changed in this unit of work."""
    for aggregate in uow.changed():
        if isinstance(aggregate, ServiceContract):
            await indexes(uow).save_contract(aggregate)
        elif isinstance(aggregate, (SoldProduct, InstallBaseItem)):
            await indexes(uow).save_product(aggregate)
        elif isinstance(aggregate, Quote):
            await indexes(uow).save_quote(aggregate)
        elif isinstance(aggregate, Order):
            await indexes(uow).save_order(aggregate)
        elif isinstance(aggregate, CatalogueEntry):
            await indexes(uow).save_catalogue_entry(aggregate)


async def commit(uow: UnitOfWork) -> None:
    await save_indexes(uow)
    await uow.commit()
