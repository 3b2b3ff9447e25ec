"""Events of contracting (services/clm): a contract from its request (from an approved quote or
self-service) through intake, and from draft to activation."""

import datetime as dt
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event
from shared.events.money import Currency
from shared.events.quotes import BillingFrequency, QuoteLine, RiskTier


class Party(BaseModel):
    role: str = Field(description="customer, vendor, ...", examples=["customer"])
    name: str = Field(min_length=1, max_length=200)


class _ContractEvent(Event):
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID


class _ContractTerms(_ContractEvent):
    number: str
    title: str
    contract_model: str
    parties: list[Party]
    start_date: dt.date
    end_date: dt.date
    time_zone: str = Field(description="IANA zone in which the calendar dates are read")


class ContractDrafted(_ContractTerms):
    """A contract was created in Draft."""

    event_type = "ContractDrafted"


class ContractActivated(_ContractTerms):
    """The contract is in force. Carries its key terms so consumers need no other call."""

    event_type = "ContractActivated"


# -- the request (phase 1): how a contract begins, from an approved quote or self-service ------------

RequestOrigin = Literal["quote", "self_service"]
RequestState = Literal[
    "draft", "new", "work_in_progress", "awaiting_review", "awaiting_approval", "awaiting_signature",
    "contract_signed", "closed_complete", "cancelled",
]
Classification = Literal["standard", "non_standard", "high_risk"]
AssigneeRole = Literal["contract_manager", "legal_counsel"]


class RequestedAccount(BaseModel):
    """The customer the contract is for: a quote's CRM account, or on a self-service request the
    name alone until someone enriches it with the CRM's id."""

    account_id: str | None = Field(None, min_length=1, max_length=64, description="the CRM's account id")
    name: str = Field(min_length=1, max_length=200)


class RequestedDeal(BaseModel):
    """The deal fields as far as they are known: all of them on a request from a quote (its
    DealFields), any of them on a self-service request. `deal_size` and `max_discount_percent` are
    derived from the lines, never entered. A missing field makes the request non-standard."""

    region: str | None = Field(None, min_length=1, max_length=32, examples=["EU"])
    industry: str | None = Field(None, min_length=1, max_length=64, examples=["manufacturing"])
    risk_tier: RiskTier | None = None
    data_residency: str | None = Field(None, min_length=1, max_length=32, examples=["EU"])
    deal_size: Decimal | None = Field(None, description="net total of the lines, in the request's currency")
    max_discount_percent: Decimal | None = None


class RequestTerms(BaseModel):
    """What a request says of the deal. From a quote: every commercial field of QuoteApproved."""

    title: str = Field(min_length=1, max_length=300)
    account: RequestedAccount
    currency: Currency | None = None
    term_months: int | None = Field(None, gt=0, le=600)
    billing_frequency: BillingFrequency | None = None
    time_zone: str | None = Field(None, description="IANA zone in which the line dates are read")
    lines: list[QuoteLine] = Field(default_factory=list)
    deal: RequestedDeal = Field(default_factory=RequestedDeal)
    desired_start_date: dt.date | None = None


class ContractRequested(_ContractEvent, RequestTerms):
    """A contract was requested: from an approved quote (state `new`, every commercial field copied
    from QuoteApproved) or self-service (state `draft`, as few fields as title and account). The
    first event of the contract's stream."""

    event_type = "ContractRequested"
    number: str
    origin: RequestOrigin
    quote_id: UUID | None = None
    quote_number: str | None = None
    opportunity_id: str | None = None
    state: Literal["draft", "new"]
    requested_by: str = Field(description="JWT sub of who asked; for a quote, who recorded its approval")
    requested_at: dt.datetime


class ContractRequestEnriched(_ContractEvent):
    """Fields of the request were filled in or changed. Carries only the fields that changed (the
    lines and the deal whole when any of them changed; the deal's derived fields recomputed)."""

    event_type = "ContractRequestEnriched"
    title: str | None = Field(None, min_length=1, max_length=300)
    account: RequestedAccount | None = None
    currency: Currency | None = None
    term_months: int | None = Field(None, gt=0, le=600)
    billing_frequency: BillingFrequency | None = None
    time_zone: str | None = None
    lines: list[QuoteLine] | None = None
    deal: RequestedDeal | None = None
    desired_start_date: dt.date | None = None
    by: str
    at: dt.datetime


class ContractRequestStateChanged(_ContractEvent):
    """The request moved from one state to another (docs/design/contracting.md, "Request states"):
    who moved it and when, so the time spent in each phase can be measured."""

    event_type = "ContractRequestStateChanged"
    from_state: RequestState
    to_state: RequestState
    by: str = Field(description="JWT sub of who moved it")
    at: dt.datetime
    reason: str = ""


class ClassificationReason(BaseModel):
    rule: str = Field(description="the classification rule that applied", examples=["classification.risk_tier_high"])
    message: str


class ContractClassified(_ContractEvent):
    """The request's class changed: by the rules on the deal fields (`by` is "rules"), or raised
    by a contract manager or legal counsel. standard < non_standard < high_risk."""

    event_type = "ContractClassified"
    classification: Classification
    previous: Classification | None = None
    reasons: list[ClassificationReason]
    by: str = Field(description='JWT sub, or "rules"')
    at: dt.datetime


class ContractAssigned(_ContractEvent):
    """The request was given to a queue or to a named contract manager or legal counsel."""

    event_type = "ContractAssigned"
    queue: str | None = Field(None, examples=["legal-review"])
    assignee: str | None = Field(None, description="JWT sub of the person it is assigned to")
    assignee_role: AssigneeRole | None = None
    by: str = Field(description='JWT sub, or "rules" for the queue its class routes it to')
    at: dt.datetime
