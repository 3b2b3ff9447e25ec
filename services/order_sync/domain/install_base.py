"""What the customer owns: sold products and install base items, each active or suspended.

Suspending one suspends the Draft/Active lines and entitlements covering it; resuming gives
them back the state their dates say (`suspend` and `resume` below keep both sides in step:
"a line or entitlement and what it covers stay in the same state").
"""

import datetime as dt
from typing import Callable, Iterable, Union
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState
from shared.events.install_base import (
    InstallBaseItemMoved,
    InstallBaseItemRecorded,
    InstallBaseItemResumed,
    InstallBaseItemSuspended,
    SoldProductRecorded,
    SoldProductResumed,
    SoldProductSuspended,
)
from services.order_sync.domain import rules
from services.order_sync.domain.service_contract import ServiceContract

ACTIVE, SUSPENDED = "active", "suspended"


class _Owned(Aggregate):
    kind = "product"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.account = ""
        self.state = ACTIVE

    @property
    def product_id(self) -> UUID:
        return UUID(self.id)

    @property
    def suspended(self) -> bool:
        return self.state == SUSPENDED

    def _refuse_suspend(self) -> None:
        if self.suspended:
            raise ConflictingState(rules.PRODUCT_ALREADY_SUSPENDED, f"the {self.kind} is already suspended", "state")

    def _refuse_resume(self) -> None:
        if not self.suspended:
            raise ConflictingState(rules.PRODUCT_NOT_SUSPENDED, f"the {self.kind} is not suspended", "state")


class SoldProduct(_Owned):
    stream_type = kind = "sold_product"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.product = ""
        self.quantity = 0

    @classmethod
    def record_new(cls, sold_product_id: UUID, *, account: str, product: str, quantity: int) -> "SoldProduct":
        sold = cls(str(sold_product_id))
        sold.record(SoldProductRecorded(sold_product_id=sold_product_id, account=account, product=product, quantity=quantity))
        return sold

    def suspend(self, today: dt.date, reason: str = "") -> None:
        self._refuse_suspend()
        self.record(SoldProductSuspended(sold_product_id=self.product_id, effective_on=today, reason=reason))

    def resume(self, today: dt.date) -> None:
        self._refuse_resume()
        self.record(SoldProductResumed(sold_product_id=self.product_id, effective_on=today))

    @applies
    def _on_recorded(self, event: SoldProductRecorded) -> None:
        self.account, self.product, self.quantity = event.account, event.product, event.quantity

    @applies
    def _on_suspended(self, event: SoldProductSuspended) -> None:
        self.state = SUSPENDED

    @applies
    def _on_resumed(self, event: SoldProductResumed) -> None:
        self.state = ACTIVE


class InstallBaseItem(_Owned):
    stream_type = kind = "install_base_item"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name = ""
        self.site = ""
        self.sold_product_id: UUID | None = None
        self.serial_number: str | None = None

    @classmethod
    def record_new(
        cls, item_id: UUID, *, account: str, name: str, site: str,
        sold_product_id: UUID | None = None, serial_number: str | None = None,
    ) -> "InstallBaseItem":
        item = cls(str(item_id))
        item.record(InstallBaseItemRecorded(
            install_base_item_id=item_id, account=account, name=name, site=site,
            sold_product_id=sold_product_id, serial_number=serial_number,
        ))
        return item

    def move(self, to_site: str) -> None:
        """MACD "move": a field change, so allowed while suspended too."""
        if to_site != self.site:
            self.record(InstallBaseItemMoved(install_base_item_id=self.product_id, from_site=self.site, to_site=to_site))

    def suspend(self, today: dt.date, reason: str = "") -> None:
        self._refuse_suspend()
        self.record(InstallBaseItemSuspended(install_base_item_id=self.product_id, effective_on=today, reason=reason))

    def resume(self, today: dt.date) -> None:
        self._refuse_resume()
        self.record(InstallBaseItemResumed(install_base_item_id=self.product_id, effective_on=today))

    @applies
    def _on_recorded(self, event: InstallBaseItemRecorded) -> None:
        self.account, self.name, self.site = event.account, event.name, event.site
        self.sold_product_id, self.serial_number = event.sold_product_id, event.serial_number

    @applies
    def _on_moved(self, event: InstallBaseItemMoved) -> None:
        self.site = event.to_site

    @applies
    def _on_suspended(self, event: InstallBaseItemSuspended) -> None:
        self.state = SUSPENDED

    @applies
    def _on_resumed(self, event: InstallBaseItemResumed) -> None:
        self.state = ACTIVE


OwnedProduct = Union[SoldProduct, InstallBaseItem]


def suspend(
    product: OwnedProduct, covering: Iterable[ServiceContract], today: dt.date, reason: str = "",
    today_of: Callable[[ServiceContract], dt.date] | None = None,
) -> None:
    """`today_of`: today in each contract's own time zone (default: `today`)."""
    product.suspend(today, reason)
    for contract in covering:
        contract.suspend_covering(product.product_id, today_of(contract) if today_of else today)


def resume(
    product: OwnedProduct, covering: Iterable[ServiceContract], today: dt.date, still_suspended: set[UUID],
    today_of: Callable[[ServiceContract], dt.date] | None = None,
) -> None:
    """`still_suspended`: the other products, among those the contracts cover, that stay suspended."""
    product.resume(today)
    for contract in covering:
        contract.resume_covering(product.product_id, today_of(contract) if today_of else today,
                                 still_suspended - {product.product_id})
