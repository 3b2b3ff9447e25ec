"""Activation (phase 6, services/clm): an executed contract's readiness for order sync, and
ContractActivated v2, the key terms as structured data.

v2 is published next to v1 (contracts.py) for every activation, v1 first, so v1's consumers keep
working until they move (shared/events/README.md); order sync reads v2."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event
from shared.events.contracts import _ContractTerms
from shared.events.money import Currency


class ActivationMissing(BaseModel):
    item: str = Field(description="what is missing, e.g. the SKU or the field", examples=["SKU-GOLD-24"])
    rule: str = Field(description="the readiness rule, e.g. activation.sku_not_in_catalogue")
    message: str


class ActivationBlocked(Event):
    """The start date came but order sync could not take the contract: each missing item listed.
    Retried when the catalogue changes or by hand."""

    event_type = "ActivationBlocked"
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID
    missing: list[ActivationMissing] = Field(min_length=1)
    at: dt.datetime


class ActivatedLine(BaseModel):
    line_id: UUID
    sku: str
    product: str
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal = Field(ge=0)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100)
    net_amount: Decimal
    start_date: dt.date
    end_date: dt.date


class ActivatedEntitlement(BaseModel):
    """What the customer may use under a line: from the catalogue's entry of its SKU."""

    line_id: UUID
    sku: str
    name: str
    support_level: str | None = None
    sla: str | None = None
    features: list[str] = Field(default_factory=list)
    usage_limit: int | None = Field(None, ge=0)
    usage_unit: str | None = None
    start_date: dt.date
    end_date: dt.date


class RenewalRules(BaseModel):
    auto_renewal: bool | None = Field(None, description="renews tacitly unless notice is given")
    renewal_term_months: int | None = Field(None, ge=1)
    notice_days: int | None = Field(None, ge=0)


class ContractActivatedV2(_ContractTerms):
    """The contract is in force, with its key terms as data: parties, dates, lines (products,
    quantities, prices), entitlements, renewal rules, and the executed version's hash. Lines and
    entitlements are empty for a contract drafted without a request (activated by hand)."""

    event_type = "ContractActivated"
    schema_version = 2
    account_id: str | None = None
    currency: Currency | None = None
    quote_id: UUID | None = None
    executed_version: int | None = Field(None, ge=1)
    signed_document_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    lines: list[ActivatedLine] = Field(default_factory=list)
    entitlements: list[ActivatedEntitlement] = Field(default_factory=list)
    renewal: RenewalRules | None = None
    activated_at: dt.datetime | None = None
