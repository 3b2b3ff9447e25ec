"""Events of contracting (services/clm): a contract from draft to activation."""

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event


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
