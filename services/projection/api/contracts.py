"""The shared contract record everyone opens: /api/v1/contracts (read only)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator, Field, model_validator

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.rest import Cursor, Date, Limit, Page, page_of
from shared.events.contracts import AssigneeRole, Classification, Party, RequestOrigin, RequestState
from shared.events.coverage import ContractOrigin, PaymentSchedule
from shared.events.negotiation import VersionOrigin
from services.projection.api.contract_terms import RecordLinks
from services.projection.api.contracting_record import ContractingProgress
from services.projection.application import queries

router = APIRouter(prefix="/contracts", tags=["contract read model"], dependencies=[Depends(any_role)])


Count = Annotated[int, BeforeValidator(lambda n: n or 0)]  # none until the first event that counts


class CoveredAsset(BaseModel):
    asset_id: str
    asset_name: str
    linked_at: dt.datetime
    effective_from: dt.date | None = Field(None, description="the link covers from this day; none: the contract's start")
    effective_to: dt.date | None = Field(None, description="the link covers to this day; none: the contract's end")
    carried_from: UUID | None = Field(None, description="the predecessor contract the link was carried over from")


class FieldChange(BaseModel):
    field: str = Field(description="the record's field (`assets.<asset id>.effective_to` for a link's dates)")
    before: Any
    after: Any


class HistoryEntry(BaseModel):
    at: dt.datetime = Field(description="when the change was recorded (the event's time)")
    event_type: str = Field(description="the event that changed it", examples=["VendorContractRevised"])
    event_id: UUID
    changes: list[FieldChange]


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
    # The shared record of both jobs (DOMAIN.md, "The shared contract record"): operations' fields.
    contract_origin: ContractOrigin | None = Field(
        None, description="contracting (from clm) or operations (a vendor contract recorded in asset_coverage)")
    substate: str | None = Field(None, description="contracting: the request's state; operations: awaiting_start while in draft")
    vendor: str | None = None
    vendor_contract_number: str | None = None
    customer: str | None = None
    parent_id: UUID | None = Field(None, description="the predecessor this contract renews")
    canceled_on: dt.date | None = None
    cancel_reason: str | None = None
    owners: list[str] = Field(default_factory=list, description="who renewal tasks and reminders go to")
    sla_response_hours: Decimal | None = None
    sla_resolution_hours: Decimal | None = None
    service_hours: str | None = None
    warranty_terms: str | None = None
    warranty_until: dt.date | None = None
    renewable: bool | None = None
    renewal_options: str | None = None
    renewal_notice_days: int | None = None
    payment_amount: Decimal | None = None
    payment_schedule: PaymentSchedule | None = None
    cost_per_unit: Decimal | None = None
    cost_center: str | None = None
    po_number: str | None = None
    tax: Decimal | None = None
    cost_currency: str | None = Field(None, description="the costs' currency (`currency` is the request's deal)")
    assets: list[CoveredAsset]
    updated_at: dt.datetime

    @model_validator(mode="before")
    @classmethod
    def _derived(cls, row: dict) -> dict:
        row = dict(row)
        row["owners"] = row.get("owners") or []
        if row.get("substate") is None:
            row["substate"] = (row.get("request_state") if row.get("contract_origin") != "operations"
                               else "awaiting_start" if row.get("state") == "draft" else None)
        return row


class ContractRecordWithHistory(ContractRecord, ContractingProgress):
    history: list[HistoryEntry] = Field(description="every change of dates or terms, oldest first")
    links: RecordLinks = Field(default_factory=RecordLinks, description="amendments and the renewal chain (phase 7)")


@router.get("", response_model=Page[ContractRecord])
async def list_contracts(
    ctx: Annotated[ServiceContext, Depends(context)],
    state: Literal["draft", "active", "expired", "canceled"] | None = None,
    request_state: RequestState | None = None,
    contract_origin: ContractOrigin | None = None,
    vendor: Annotated[str | None, Query(max_length=200, description="the vendor's name (case-insensitive)")] = None,
    contract_model: Annotated[str | None, Query(max_length=64)] = None,
    asset_id: Annotated[str | None, Query(max_length=128, description="contracts linked to this asset")] = None,
    classification: Classification | None = None,
    party: Annotated[str | None, Query(max_length=200, description="Part of a party's name")] = None,
    ends_before: Date | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    rows = await queries.contracts(ctx.engine, state=state, party=party, ends_before=ends_before, after=cursor, limit=limit,
                                   request_state=request_state, classification=classification,
                                   contract_origin=contract_origin, vendor=vendor, contract_model=contract_model,
                                   asset_id=asset_id)
    return page_of(rows, limit, key=lambda r: r["contract_id"])


@router.get("/{contract_id}", response_model=ContractRecordWithHistory)
async def get_contract(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ContractRecordWithHistory:
    return ContractRecordWithHistory.model_validate(await queries.contract(ctx.engine, contract_id))


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
