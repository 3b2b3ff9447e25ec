"""Request bodies of the inventory's routes: the shapes of the event models (shared/events/assets.py,
coverage.py) with what a schema can say (rest.Date, rest.Amount, lengths, enums), turned into those
models by `as_model`. What only the models check (ISO 4217 codes, decimal places, ranges, an end
after its start, licence fields for software only) is refused there as a rule naming the field,
not as a request of the wrong form: the schema promises only what it checks."""

from typing import TypeVar

from pydantic import BaseModel, Field, StrictBool, ValidationError

from shared.backbone.errors import invalid
from shared.backbone.rest import Amount, Date, whole_number
from shared.events.assets import AssetDetails, AssetKind, Criticality, LicenceMetric
from shared.events.base import MAX_QUANTITY
from shared.events.coverage import (
    OperationalTerms, PaymentSchedule, VendorContractModel, VendorContractTerms,
)
from services.asset_coverage.domain import rules

M = TypeVar("M", bound=BaseModel)


def as_model(model: type[M], body: BaseModel, rule: str) -> M:
    """`body` as `model`, or 422 `rule` naming the first field the model refuses."""
    try:
        return model.model_validate(body.model_dump(exclude_unset=False))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        raise invalid(rule, error["msg"], field) from exc


class AssetBody(BaseModel):
    kind: AssetKind
    name: str = Field(min_length=1, max_length=300)
    model: str | None = Field(default=None, max_length=200)
    site: str | None = Field(default=None, max_length=200, examples=["Plant 4"])
    criticality: Criticality = "medium"
    owner: str | None = Field(default=None, max_length=200, description="user id or e-mail of the owner")
    licence_metric: LicenceMetric | None = Field(None, description="software only")
    licence_quantity: whole_number(1, MAX_QUANTITY) | None = Field(None, description="software only")

    def details(self) -> AssetDetails:
        return as_model(AssetDetails, self, rules.ASSET_DETAILS_INVALID)


class ServiceLevelBody(BaseModel):
    response_hours: Amount | None = Field(None, description="hours to respond, above 0, at most 8760")
    resolution_hours: Amount | None = Field(None, description="hours to resolve, above 0, at most 8760")
    service_hours: str | None = Field(default=None, max_length=100, examples=["24x7", "Mon-Fri 08:00-17:00"])


class WarrantyBody(BaseModel):
    terms: str | None = Field(default=None, max_length=2000)
    until: Date | None = Field(default=None, description="the warranty's last day, when it differs from the end")


class CostsBody(BaseModel):
    currency: str | None = Field(None, pattern="^[A-Z]{3}$", description="ISO 4217 code", examples=["EUR"])
    payment_amount: Amount | None = Field(None, description="at most 2 decimal places")
    payment_schedule: PaymentSchedule | None = None
    cost_per_unit: Amount | None = Field(None, description="at most 4 decimal places")
    cost_center: str | None = Field(default=None, max_length=100)
    po_number: str | None = Field(default=None, max_length=100)
    tax: Amount | None = Field(None, description="at most 2 decimal places")


class RenewalOptionsBody(BaseModel):
    # JSON true is no number of days, nor 1 a yes (pydantic's lax mode would take them).
    renewable: StrictBool = False
    options: str | None = Field(default=None, max_length=2000, examples=["two one-year extensions"])
    notice_days: whole_number(0, 3650) | None = None


class OperationalTermsBody(BaseModel):
    """What operations owns on any contract, from contracting or not."""

    sla: ServiceLevelBody | None = None
    warranty: WarrantyBody | None = None
    costs: CostsBody | None = None
    renewal: RenewalOptionsBody | None = None
    owners: list[str] = Field(default_factory=list, max_length=20,
                              description="user ids, e-mail addresses or role names; renewal tasks go to them")

    def terms(self) -> OperationalTerms:
        return as_model(OperationalTerms, self, rules.OPERATIONAL_TERMS_INVALID)


class VendorContractTermsBody(BaseModel):
    number: str = Field(min_length=1, max_length=64, description="our number")
    vendor: str = Field(min_length=1, max_length=200)
    vendor_contract_number: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    customer: str | None = Field(default=None, max_length=200)
    contract_model: VendorContractModel
    start_date: Date
    end_date: Date = Field(description="the last day in force; not before start_date")
    time_zone: str = Field(default="UTC", max_length=64, description="IANA zone in which the dates are read")

    def terms(self) -> VendorContractTerms:
        if self.end_date < self.start_date:
            raise invalid(rules.DATES_END_BEFORE_START, "end_date must not be before start_date", "end_date")
        return as_model(VendorContractTerms, self, rules.TERMS_INVALID)
