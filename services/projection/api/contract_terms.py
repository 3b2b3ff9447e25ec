"""Amendments and renewals on the shared record (phase 7): the links a record shows, and the
terms in force on a day: GET /api/v1/contracts/{id}/terms?as_of=YYYY-MM-DD (read only)."""

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.rest import Date
from shared.events.contracts import RequestState
from services.projection.application import link_queries

router = APIRouter(prefix="/contracts", tags=["contract read model"], dependencies=[Depends(any_role)])


class LinkedAmendment(BaseModel):
    contract_id: UUID
    effective_date: dt.date
    request_state: RequestState | None = Field(description="the amendment's request state")
    in_force: bool = Field(description="executed or active: its terms win from its effective date")


class RecordLinks(BaseModel):
    relation: Literal["amendment", "successor"] | None = Field(
        None, description="what this contract is to `parent_id`; none when it is linked to nothing")
    parent_id: UUID | None = Field(None, description="the contract this one amends, or the predecessor it renews")
    effective_date: dt.date | None = Field(None, description="an amendment's effective date; a successor's start")
    amendments: list[LinkedAmendment] = Field(default_factory=list, description="by effective date")
    predecessor_id: UUID | None = None
    successor_id: UUID | None = Field(None, description="the live (not cancelled) successor")
    chain: list[UUID] = Field(default_factory=list, description="the renewal chain through this contract, oldest first")


class TermInForce(BaseModel):
    value: Any
    source: UUID = Field(description="the contract the value comes from: the parent or an amendment")


class TermsInForce(BaseModel):
    contract_id: UUID
    as_of: dt.date
    amends: UUID | None = Field(description="set when this contract is itself an amendment: ask its parent for the "
                                            "terms in force")
    amendments_applied: list[UUID] = Field(description="in force on `as_of`, in the order applied")
    terms: dict[str, TermInForce] = Field(description="start_date, end_date, time_zone (the parent's) and the "
                                                      "negotiated liability_cap, liability_cap_currency, payment_days, "
                                                      "auto_renewal, governing_law")


@router.get("/{contract_id}/terms", response_model=TermsInForce)
async def get_terms(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)],
                    as_of: Date | None = None) -> TermsInForce:
    """The contract's terms with each executed or active amendment whose effective date is on or
    before `as_of` applied (default: today in the contract's zone); each field names its source."""
    def today(zone: str | None) -> dt.date:
        return ctx.clock.now().astimezone(ZoneInfo(zone or "UTC")).date()
    answer = await link_queries.terms_in_force(ctx.engine, contract_id, as_of, today)
    return TermsInForce(**answer)
