"""Events of commerce (services/order_sync): service contracts, their lines and entitlements.

All travel on `order_sync.service_contracts.v1`, keyed by `contract_id`, so one contract's events
(its lines' and entitlements' included) arrive in order. Dates are calendar dates read in the
contract's `time_zone`; `effective_on` is the date a transition took effect there.
"""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import MAX_QUANTITY, Event


class ServiceState(StrEnum):
    """The life-cycle state of a service contract, a contract line or an entitlement."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CANCELED = "canceled"


class CoveredProduct(BaseModel):
    """What a line or entitlement covers: a sold product, an install base item, or both."""

    sold_product_id: UUID | None = None
    install_base_item_id: UUID | None = None


class ContractLineTerms(CoveredProduct):
    line_id: UUID
    product: str = Field(description="the service product sold on this line", examples=["Premium support"])
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price: Decimal = Field(ge=0, description="price per unit for the line's term, in the contract's currency")
    start_date: dt.date
    end_date: dt.date
    state: ServiceState


class EntitlementTerms(CoveredProduct):
    entitlement_id: UUID
    line_id: UUID | None = Field(None, description="the line it is attached to; none when attached to the contract")
    name: str = Field(description="what the customer may use", examples=["onsite-repair"])
    support_level: str | None = Field(None, examples=["gold"])
    sla: str | None = Field(None, description="service level, e.g. response time", examples=["4h response"])
    features: list[str] = Field(default_factory=list, examples=[["remote-diagnostics"]])
    usage_limit: int | None = Field(None, ge=0, description="units or usage allowed; none when unlimited")
    usage_unit: str | None = Field(None, examples=["incidents"])
    start_date: dt.date
    end_date: dt.date
    state: ServiceState


class _ServiceContractEvent(Event):
    topic = topics.ORDER_SYNC_SERVICE_CONTRACTS
    source = "/services/order_sync"
    key_field = "contract_id"
    contract_id: UUID


class ServiceContractRecorded(_ServiceContractEvent):
    """Commerce drafted a service contract for an activated legal contract (same id and dates).

    The contract starts in Draft, exactly as if `ServiceContractDrafted` had been published.
    """

    event_type = "ServiceContractRecorded"
    number: str
    account: str
    start_date: dt.date
    end_date: dt.date
    time_zone: str = Field("UTC", description="IANA zone of the dates (added in v1 as optional)")


class ServiceContractDrafted(_ServiceContractEvent):
    """A service contract was created in Draft, with the lines and entitlements it was drafted with."""

    event_type = "ServiceContractDrafted"
    number: str
    account: str
    start_date: dt.date
    end_date: dt.date
    time_zone: str = Field(description="IANA zone in which the calendar dates are read")
    lines: list[ContractLineTerms] = Field(default_factory=list)
    entitlements: list[EntitlementTerms] = Field(default_factory=list)


class ServiceContractDatesChanged(_ServiceContractEvent):
    """New dates: both while Draft; once Active only the end date, and only later (extension)."""

    event_type = "ServiceContractDatesChanged"
    start_date: dt.date
    end_date: dt.date


class _ContractTransition(_ServiceContractEvent):
    effective_on: dt.date


class ServiceContractActivated(_ContractTransition):
    """The contract's start date was reached: Draft -> Active."""

    event_type = "ServiceContractActivated"


class ServiceContractExpired(_ContractTransition):
    """The contract's end date passed. Terminal; its lines and entitlements expire with it."""

    event_type = "ServiceContractExpired"


class ServiceContractCanceled(_ContractTransition):
    """The contract was formally canceled. Terminal; its open lines and entitlements are canceled."""

    event_type = "ServiceContractCanceled"
    reason: str = ""


# -- contract lines ---------------------------------------------------------------------------


class ContractLineAdded(_ServiceContractEvent):
    """A line was added (Draft or Active contract; MACD "add"). Its state is in `line.state`."""

    event_type = "ContractLineAdded"
    line: ContractLineTerms


class _LineEvent(_ServiceContractEvent):
    line_id: UUID


class ContractLineRemoved(_LineEvent):
    """A Draft line was removed, with the entitlements attached to it."""

    event_type = "ContractLineRemoved"


class ContractLineDatesChanged(_LineEvent):
    """The line's dates changed (Draft: both; Active: end date extended)."""

    event_type = "ContractLineDatesChanged"
    start_date: dt.date
    end_date: dt.date


class ContractLineQuantityChanged(_LineEvent):
    """MACD "change": the quantity of a line changed."""

    event_type = "ContractLineQuantityChanged"
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    previous_quantity: int


class ContractLineEdited(_LineEvent):
    """Field values of the line changed (product name, unit price)."""

    event_type = "ContractLineEdited"
    product: str
    unit_price: Decimal


class ContractLineCoverageChanged(_LineEvent, CoveredProduct):
    """The line now covers another sold product / install base item."""

    event_type = "ContractLineCoverageChanged"


class ContractLineDisconnected(_LineEvent):
    """MACD "disconnect": an Active line was ended early; it expires after `end_date`."""

    event_type = "ContractLineDisconnected"
    end_date: dt.date
    previous_end_date: dt.date


class _LineTransition(_LineEvent):
    effective_on: dt.date


class ContractLineActivated(_LineTransition):
    """The line's start date was reached (or it was added on or after it): -> Active."""

    event_type = "ContractLineActivated"


class ContractLineSuspended(_LineTransition):
    """A sold product / install base item the line covers was suspended: Draft/Active -> Suspended."""

    event_type = "ContractLineSuspended"


class ContractLineResumed(_LineTransition):
    """What the line covers was resumed; it took the state its dates give (`state`)."""

    event_type = "ContractLineResumed"
    state: ServiceState


class ContractLineExpired(_LineTransition):
    """The line's end date passed, or its contract expired. Terminal."""

    event_type = "ContractLineExpired"


class ContractLineCanceled(_LineTransition):
    """The line was canceled, or its contract was. Terminal."""

    event_type = "ContractLineCanceled"


# -- entitlements -----------------------------------------------------------------------------


class EntitlementAdded(_ServiceContractEvent):
    """An entitlement was attached to the contract or one of its lines. Its state is in `entitlement.state`."""

    event_type = "EntitlementAdded"
    entitlement: EntitlementTerms


class _EntitlementEvent(_ServiceContractEvent):
    entitlement_id: UUID


class EntitlementRemoved(_EntitlementEvent):
    """A Draft entitlement was removed."""

    event_type = "EntitlementRemoved"


class EntitlementDatesChanged(_EntitlementEvent):
    """The entitlement's dates changed (Draft: both; Active: end date extended)."""

    event_type = "EntitlementDatesChanged"
    start_date: dt.date
    end_date: dt.date


class EntitlementEdited(_EntitlementEvent):
    """Field values of the entitlement changed (what it grants, its service level, its limits)."""

    event_type = "EntitlementEdited"
    name: str
    support_level: str | None
    sla: str | None
    features: list[str]
    usage_limit: int | None
    usage_unit: str | None


class _EntitlementTransition(_EntitlementEvent):
    effective_on: dt.date


class EntitlementActivated(_EntitlementTransition):
    """The entitlement's start date was reached (or it was added on or after it): -> Active."""

    event_type = "EntitlementActivated"


class EntitlementSuspended(_EntitlementTransition):
    """A sold product / install base item it covers was suspended: Draft/Active -> Suspended."""

    event_type = "EntitlementSuspended"


class EntitlementResumed(_EntitlementTransition):
    """What the entitlement covers was resumed; it took the state its dates give (`state`)."""

    event_type = "EntitlementResumed"
    state: ServiceState


class EntitlementExpired(_EntitlementTransition):
    """The entitlement's end date passed, or its line or contract expired. Terminal."""

    event_type = "EntitlementExpired"


class EntitlementCanceled(_EntitlementTransition):
    """The entitlement was canceled, or its line or contract was. Terminal."""

    event_type = "EntitlementCanceled"
