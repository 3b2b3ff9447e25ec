"""Events of what customers own (services/order_sync): sold products and install base items.

They travel on `order_sync.install_base.v1`, keyed by the product's or item's id. Suspending or
resuming one also changes the lines and entitlements covering it: those changes are published
on `order_sync.service_contracts.v1` in the same transaction.
"""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import MAX_QUANTITY, Event


class _SoldProductEvent(Event):
    topic = topics.ORDER_SYNC_INSTALL_BASE
    source = "/services/order_sync"
    key_field = "sold_product_id"
    sold_product_id: UUID


class SoldProductRecorded(_SoldProductEvent):
    """A customer account owns a sold product (state active)."""

    event_type = "SoldProductRecorded"
    account: str
    product: str
    quantity: int = Field(gt=0, le=MAX_QUANTITY)


class SoldProductSuspended(_SoldProductEvent):
    """The sold product was suspended; the Draft/Active lines and entitlements covering it are suspended too."""

    event_type = "SoldProductSuspended"
    effective_on: dt.date
    reason: str = ""


class SoldProductResumed(_SoldProductEvent):
    """The sold product is active again; the lines and entitlements covering it take the state their dates give."""

    event_type = "SoldProductResumed"
    effective_on: dt.date


class _InstallBaseItemEvent(Event):
    topic = topics.ORDER_SYNC_INSTALL_BASE
    source = "/services/order_sync"
    key_field = "install_base_item_id"
    install_base_item_id: UUID


class InstallBaseItemRecorded(_InstallBaseItemEvent):
    """A physical or logical item the customer has installed (state active), at a site."""

    event_type = "InstallBaseItemRecorded"
    account: str
    name: str
    site: str
    sold_product_id: UUID | None = None
    serial_number: str | None = None


class InstallBaseItemMoved(_InstallBaseItemEvent):
    """MACD "move": the item is now at another site."""

    event_type = "InstallBaseItemMoved"
    from_site: str
    to_site: str


class InstallBaseItemSuspended(_InstallBaseItemEvent):
    """The item was suspended; the Draft/Active lines and entitlements covering it are suspended too."""

    event_type = "InstallBaseItemSuspended"
    effective_on: dt.date
    reason: str = ""


class InstallBaseItemResumed(_InstallBaseItemEvent):
    """The item is active again; the lines and entitlements covering it take the state their dates give."""

    event_type = "InstallBaseItemResumed"
    effective_on: dt.date
