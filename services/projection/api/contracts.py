"""The shared contract record everyone opens: /api/v1/contracts (read only)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.rest import Cursor, Date, Limit, Page, page_of
from shared.events.contracts import AssigneeRole, Classification, Party, RequestOrigin, RequestState
from shared.events.negotiation import VersionOrigin
from services.projection.application import queries

router = APIRouter(prefix="/contracts", tags=["contract read model"], dependencies=[Depends(any_role)])


Count = Annotated[int, BeforeValidator(lambda n: n or 0)]  # none until the first event that counts


class CoveredAsset(BaseModel):
    asset_id: str
    asset_name: str
    linked_at: dt.datetime


class ContractRecord(BaseModel):
    contract_id: UUID
    number: str | None
    title: str | None
    contract_model: str | None
    state: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    time_zone: str | None
    parties: list[Party] | None
    expires_at: dt.datetime | None
    expired_at: dt.datetime | None
    service_contract_number: str | None
    request_state: RequestState | None = Field(description="the request's state (clm, phase 1); none for a contract drafted without one")
    request_state_since: dt.datetime | None
    origin: RequestOrigin | None
    quote_id: UUID | None
    opportunity_id: str | None
    classification: Classification | None
    queue: str | None
    assignee: str | None
    assignee_role: AssigneeRole | None
    currency: str | None
    deal_size: Decimal | None
    template_id: UUID | None = Field(description="the template of the generated version; none before drafting")
    template_version: int | None
    template_kind: str | None
    current_version_number: int | None = Field(description="the latest version of the document; none before drafting")
    current_version_sha256: str | None
    current_version_author: str | None
    current_version_origin: VersionOrigin | None
    current_version_added_at: dt.datetime | None
    liability_cap: Decimal | None = Field(description="negotiated terms: each as the latest version or record set it")
    liability_cap_currency: str | None
    auto_renewal: bool | None
    payment_days: int | None
    governing_law: str | None
    open_deviations: Count = Field(description="deviations flagged and not cleared")
    open_comments: Count = Field(description="comment threads not resolved")
    assets: list[CoveredAsset]
    updated_at: dt.datetime


@router.get("", response_model=Page[ContractRecord])
async def list_contracts(
    ctx: Annotated[ServiceContext, Depends(context)],
    state: Literal["draft", "active", "expired"] | None = None,
    request_state: RequestState | None = None,
    classification: Classification | None = None,
    party: Annotated[str | None, Query(max_length=200, description="Part of a party's name")] = None,
    ends_before: Date | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    rows = await queries.contracts(ctx.engine, state=state, party=party, ends_before=ends_before, after=cursor, limit=limit,
                                   request_state=request_state, classification=classification)
    return page_of(rows, limit, key=lambda r: r["contract_id"])


@router.get("/{contract_id}", response_model=ContractRecord)
async def get_contract(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ContractRecord:
    return ContractRecord(**await queries.contract(ctx.engine, contract_id))


class Deviation(BaseModel):
    deviation_id: UUID
    version_number: int = Field(description="the version that raised it")
    kind: str
    clause_number: str | None
    heading: str | None
    term: str | None
    before: str | None
    after: str | None
    flagged_at: dt.datetime
    cleared_in_version: int | None
    cleared_at: dt.datetime | None


@router.get("/{contract_id}/deviations", response_model=Page[Deviation])
async def list_deviations(
    contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)],
    status: Literal["open", "cleared"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    """The deviations flagged in the contract's versions (open: not cleared by a later one)."""
    rows = await queries.deviations(ctx.engine, contract_id, status=status, after=cursor, limit=limit)
    return page_of(rows, limit, key=lambda r: r["deviation_id"])
