"""The in-memory twin of indexes.SqlIndexes, for unit tests of order sync's use cases on a
MemoryUnitOfWork (shared/backbone/memory.py): the rows its queries read, kept in the unit of
work's tables, so what a use case saves is seen by its own transaction and kept only on commit.
The same tests run against both (tests/integration/test_unit_of_work_contract.py). Never used by
the service.
"""

import datetime as dt
from types import SimpleNamespace
from uuid import UUID

from shared.backbone.memory import MemoryUnitOfWork
from services.order_sync.adapters.indexes import ContractRows, KeptBack, quote_row
from services.order_sync.adapters.order_indexes import MemoryOrderIndexes
from services.order_sync.domain.install_base import OwnedProduct
from services.order_sync.domain.quote import Quote, QuoteState


class MemoryIndexes(KeptBack, MemoryOrderIndexes):
    """Tables: coverage (covered products) and entitlement_index by contract id, kept back until
    flushed as SqlIndexes keeps them; owned_products (suspended or not) by product id; quote_index
    by quote id."""

    def __init__(self, uow: MemoryUnitOfWork):
        self._uow = uow
        self._kept, self._kept_orders = {}, {}

    async def _write_contracts(self, kept: list[ContractRows]) -> None:
        for k in kept:
            self._uow.table("coverage")[k.contract_id] = set(k.covered)
            # attributes, as the SQL rows have
            self._uow.table("entitlement_index")[k.contract_id] = [SimpleNamespace(**row) for row in k.entitlements]

    async def save_product(self, product: OwnedProduct) -> None:
        self._uow.table("owned_products")[product.product_id] = product.suspended

    async def contracts_covering(self, product_id: UUID) -> list[UUID]:
        await self.flush()
        return sorted(c for c, covered in self._uow.table("coverage").items() if product_id in covered)

    async def suspended_among(self, product_ids: set[UUID]) -> set[UUID]:
        suspended = self._uow.table("owned_products")
        return {p for p in product_ids if suspended.get(p)}

    async def entitlements_for(
        self, *, name: str, on: dt.date, account: str | None, covering: UUID | None,
    ) -> list:
        await self.flush()
        rows = [
            e for of_contract in self._uow.table("entitlement_index").values() for e in of_contract
            if (e.name == name or name in e.features) and e.start_date <= on <= e.end_date
            and account in (None, e.account) and (covering is None or covering in e.covers)
        ]
        return sorted(rows, key=lambda e: (e.contract_number, e.entitlement_id))

    async def save_quote(self, quote: Quote) -> None:
        self._uow.table("quote_index")[quote.quote_id] = SimpleNamespace(**quote_row(quote))

    async def quotes(
        self, *, state: QuoteState | None, account_id: str | None, opportunity_id: str | None, after: UUID | None,
        limit: int,
    ) -> list:
        rows = sorted(self._uow.table("quote_index").values(), key=lambda q: q.quote_id)
        return [
            q for q in rows
            if state in (None, q.state) and account_id in (None, q.account_id)
            and opportunity_id in (None, q.opportunity_id) and (after is None or q.quote_id > after)
        ][:limit]
