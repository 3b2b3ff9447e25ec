"""Events of the product catalogue (services/order_sync): what each SKU entitles the customer
to. One stream per SKU; clm keeps a copy of which SKUs are mapped for its order-readiness check."""

import datetime as dt

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event


class EntitlementTemplate(BaseModel):
    """An entitlement a line of this SKU grants, for the line's dates."""

    name: str = Field(min_length=1, max_length=120, examples=["onsite-repair"])
    support_level: str | None = Field(None, max_length=64, examples=["gold"])
    sla: str | None = Field(None, max_length=120, examples=["4h response"])
    features: list[str] = Field(default_factory=list)
    usage_limit: int | None = Field(None, ge=0, description="per unit of the line's quantity; none when unlimited")
    usage_unit: str | None = Field(None, max_length=64, examples=["incidents"])


class _CatalogueEvent(Event):
    topic = topics.ORDER_SYNC_CATALOGUE
    source = "/services/order_sync"
    key_field = "sku"
    sku: str = Field(min_length=1, max_length=64)


class CatalogueEntryPublished(_CatalogueEvent):
    """A version of the SKU's mapping: its product and the entitlements a line of it grants."""

    event_type = "CatalogueEntryPublished"
    version: int = Field(ge=1)
    product: str = Field(min_length=1, max_length=200)
    entitlements: list[EntitlementTemplate] = Field(min_length=1)
    by: str
    at: dt.datetime


class CatalogueEntryRetired(_CatalogueEvent):
    """The SKU is no longer sold: new orders with it fall out; existing service contracts stay."""

    event_type = "CatalogueEntryRetired"
    version: int = Field(ge=1)
    by: str
    at: dt.datetime
