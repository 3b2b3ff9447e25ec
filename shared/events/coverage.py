"""Events of operational contracts (services/asset_coverage): vendor contracts that operations
records itself (maintenance, warranty, lease, licence, subscription, support), the operational
side of contracts that came from contracting (opened by ContractActivated), and the assets each
one covers. One stream per contract, keyed by its id (docs/design/operations.md)."""

import datetime as dt
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from shared.events import topics
from shared.events.assets import ASSET_ID_PATTERN
from shared.events.base import Event
from shared.events.money import Currency

VendorContractModel = Literal[
    "maintenance", "warranty", "lease", "software_license", "subscription", "support", "service_contract",
    "purchase_agreement",
]
PaymentSchedule = Literal["one_time", "monthly", "quarterly", "semi_annually", "annually"]
ContractOrigin = Literal["operations", "contracting"]


class ServiceLevel(BaseModel):
    response_hours: Decimal | None = Field(default=None, gt=0, le=8760, description="hours to respond")
    resolution_hours: Decimal | None = Field(default=None, gt=0, le=8760, description="hours to resolve")
    service_hours: str | None = Field(default=None, max_length=100, examples=["24x7", "Mon-Fri 08:00-17:00"])


class WarrantyTerms(BaseModel):
    terms: str | None = Field(default=None, max_length=2000)
    until: dt.date | None = Field(default=None, description="the warranty's last day, when it differs from the end")


class Costs(BaseModel):
    currency: Currency | None = None
    payment_amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    payment_schedule: PaymentSchedule | None = None
    cost_per_unit: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=4)
    cost_center: str | None = Field(default=None, max_length=100)
    po_number: str | None = Field(default=None, max_length=100)
    tax: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)


class RenewalOptions(BaseModel):
    renewable: bool = False
    options: str | None = Field(default=None, max_length=2000, examples=["two one-year extensions"])
    notice_days: int | None = Field(default=None, ge=0, le=3650)


class OperationalTerms(BaseModel):
    """What operations owns on any contract, from contracting or not."""

    sla: ServiceLevel | None = None
    warranty: WarrantyTerms | None = None
    costs: Costs | None = None
    renewal: RenewalOptions | None = None
    owners: list[str] = Field(default_factory=list, max_length=20,
                              description="user ids, e-mail addresses or role names; renewal tasks go to them")


class VendorContractTerms(BaseModel):
    """The terms of a vendor contract operations records itself (its legal terms: operations owns them
    here, since it never went through contracting). Natural key: vendor + vendor_contract_number."""

    number: str = Field(min_length=1, max_length=64, description="our number")
    vendor: str = Field(min_length=1, max_length=200)
    vendor_contract_number: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    customer: str | None = Field(default=None, max_length=200)
    contract_model: VendorContractModel
    start_date: dt.date
    end_date: dt.date
    time_zone: str = Field(default="UTC", description="IANA zone in which the calendar dates are read")

    @model_validator(mode="after")
    def _end_not_before_start(self) -> "VendorContractTerms":
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class _CoverageEvent(Event):
    topic = topics.ASSET_COVERAGE
    source = "/services/asset_coverage"
    key_field = "contract_id"
    contract_id: UUID


class CoverageOpened(_CoverageEvent):
    """An active contract from contracting became available for asset links (its ContractActivated
    reached operations), or, recorded again, its dates moved: a tacit renewal (clm's ContractRenewed)
    moved `end_date` to the new period's end; consumers take the dates of the latest. The optional
    fields came later (compatible within v1)."""

    event_type = "CoverageOpened"
    start_date: dt.date
    end_date: dt.date
    number: str | None = None
    name: str | None = None
    contract_model: str | None = None
    time_zone: str | None = None
    predecessor_id: UUID | None = Field(None, description="the contract a renewal successor renews, whose links it carried over")


class VendorContractRegistered(_CoverageEvent):
    """Operations recorded a vendor contract (API or import), in Draft; the scheduler activates it on
    its start date. `predecessor_id`: the contract it renews, whose links it carries over."""

    event_type = "VendorContractRegistered"
    terms: VendorContractTerms
    operational: OperationalTerms
    predecessor_id: UUID | None = None


class VendorContractRevised(_CoverageEvent):
    """Terms of a vendor contract changed: all as they are now, and the names of those that changed."""

    event_type = "VendorContractRevised"
    terms: VendorContractTerms
    changed: list[str]


class OperationalTermsSet(_CoverageEvent):
    """The operational side of a contract changed (SLA, warranty, costs, renewal options, owners)."""

    event_type = "OperationalTermsSet"
    operational: OperationalTerms
    changed: list[str]


class OperationalContractActivated(_CoverageEvent):
    """A vendor contract's start date was reached (by the scheduler): Draft -> Active."""

    event_type = "OperationalContractActivated"
    on: dt.date


class OperationalContractExpired(_CoverageEvent):
    """The contract's end date passed (a vendor contract by the scheduler; one from contracting by
    its ContractExpired). Terminal: it covers nothing after `end_date`."""

    event_type = "OperationalContractExpired"
    end_date: dt.date


class OperationalContractCanceled(_CoverageEvent):
    """The contract was canceled: it covers nothing from `effective_on`. Terminal."""

    event_type = "OperationalContractCanceled"
    effective_on: dt.date
    reason: str | None = None


LinkedItemKind = Literal["asset", "configuration_item", "service", "software_entitlement"]


class AssetLinked(_CoverageEvent):
    """An asset (machine, CI, service, software entitlement) is covered by the contract, from
    `effective_from` to `effective_to` (inclusive; None: the contract's own start / end). The
    optional fields came later (compatible within v1: a link without them covers the whole term)."""

    event_type = "AssetLinked"
    asset_id: str = Field(min_length=1, max_length=128)
    asset_name: str
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    carried_from: UUID | None = Field(default=None, description="the predecessor contract the link came from")


class AssetLinkRevised(_CoverageEvent):
    """A link's effective dates changed (backdated changes allowed: the log keeps what was known when)."""

    event_type = "AssetLinkRevised"
    asset_id: str = Field(pattern=ASSET_ID_PATTERN)
    effective_from: dt.date | None
    effective_to: dt.date | None


class AssetUnlinked(_CoverageEvent):
    """The link was removed as recorded in error: as if it never covered the asset (ending a link
    that did cover it is AssetLinkRevised with an effective_to)."""

    event_type = "AssetUnlinked"
    asset_id: str = Field(pattern=ASSET_ID_PATTERN)
    reason: str | None = None
