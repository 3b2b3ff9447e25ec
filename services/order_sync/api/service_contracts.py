"""REST resources of service contracts: /api/v1/service-contracts, their lines and entitlements.

Every change answers with the whole contract and its version (also as ETag); send `If-Match:
<version>` to refuse the change with 409 if the contract moved on meanwhile.
"""

import datetime as dt
from typing import Annotated, Callable
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Amount, Date, IfMatch, answer_created, expected_version, replayed, with_version
from shared.events.base import MAX_QUANTITY
from shared.events.orders import ContractLineTerms, EntitlementTerms, ServiceState
from services.order_sync.application import service_contracts as use_cases
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

router = APIRouter(prefix="/service-contracts", tags=["service contracts"])

# RACI phase 6 (activation & order/entitlement sync): Sales Ops responsible, Contract Manager accountable.
may_change = require_roles(Role.SALES_OPS, Role.CONTRACT_MANAGER)


class Covers(BaseModel):
    sold_product_id: UUID | None = None
    install_base_item_id: UUID | None = None


class NewLine(Covers):
    line_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price: Amount
    start_date: Date
    end_date: Date

    def line(self) -> ContractLine:
        return ContractLine(line_id=self.line_id or uuid4(), **self.model_dump(exclude={"line_id"}))


class EntitlementFields(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="what it grants", examples=["onsite-repair"])
    support_level: str | None = None
    sla: str | None = None
    features: list[str] = Field(default_factory=list)
    usage_limit: int | None = Field(None, ge=0)
    usage_unit: str | None = None


class NewEntitlement(EntitlementFields, Covers):
    entitlement_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    line_id: UUID | None = Field(None, description="Attach to this line; the contract when omitted")
    start_date: Date
    end_date: Date

    def entitlement(self) -> Entitlement:
        return Entitlement(entitlement_id=self.entitlement_id or uuid4(), **self.model_dump(exclude={"entitlement_id"}))


class DraftServiceContract(BaseModel):
    contract_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    number: str | None = Field(None, max_length=64, description="Defaults to a generated number")
    account: str = Field(min_length=1, max_length=200)
    start_date: Date
    end_date: Date
    time_zone: str = Field("UTC", description="IANA zone in which the dates are read")
    lines: list[NewLine] = Field(default_factory=list)
    entitlements: list[NewEntitlement] = Field(default_factory=list)


class Dates(BaseModel):
    start_date: Date
    end_date: Date


class Quantity(BaseModel):
    quantity: int = Field(gt=0, le=MAX_QUANTITY)


class LineFields(BaseModel):
    product: str | None = Field(None, min_length=1, max_length=200)
    unit_price: Amount | None = None


class EntitlementEdit(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    support_level: str | None = None
    sla: str | None = None
    features: list[str] | None = None
    usage_limit: int | None = Field(None, ge=0)
    usage_unit: str | None = None


class Disconnection(BaseModel):
    end_date: Date = Field(description="last day the line is in force (today or later, before its end)")


class Cancellation(BaseModel):
    reason: str = Field("", max_length=500)


class ServiceContractView(BaseModel):
    contract_id: UUID
    number: str
    account: str
    start_date: dt.date
    end_date: dt.date
    time_zone: str
    state: ServiceState
    version: int
    lines: list[ContractLineTerms]
    entitlements: list[EntitlementTerms]

    @classmethod
    def of(cls, c: ServiceContract) -> "ServiceContractView":
        return cls(
            contract_id=c.contract_id, number=c.number, account=c.account, start_date=c.start_date, end_date=c.end_date,
            time_zone=c.time_zone, state=c.state, version=c.version,
            lines=[line.terms() for line in c.lines.values()], entitlements=[e.terms() for e in c.entitlements.values()],
        )


def _answer(response: Response, contract: ServiceContract) -> ServiceContractView:
    with_version(response, contract.version)
    return ServiceContractView.of(contract)


async def _change(
    ctx: ServiceContext, principal: Principal, response: Response, contract_id: UUID, if_match: str | None,
    command: Callable[[ServiceContract, dt.date], object],
) -> ServiceContractView:
    contract, _ = await use_cases.change_contract(ctx.uow(principal), ctx.clock, contract_id, expected_version(if_match), command)
    return _answer(response, contract)


Ctx = Annotated[ServiceContext, Depends(context)]
Changer = Annotated[Principal, Depends(may_change)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ServiceContractView,
             responses=replayed(ServiceContractView))
async def draft_service_contract(body: DraftServiceContract, response: Response, principal: Changer, ctx: Ctx) -> ServiceContractView:
    """Creates a service contract in Draft, with its lines and entitlements. Retrying with the same
    `contract_id` answers 200 with the existing contract."""
    contract_id = body.contract_id or uuid4()
    contract, is_new = await use_cases.draft_service_contract(
        ctx.uow(principal), contract_id, number=body.number or f"SC-{contract_id.hex[:10].upper()}",
        account=body.account, start_date=body.start_date, end_date=body.end_date, time_zone=body.time_zone,
        lines=[line.line() for line in body.lines], entitlements=[e.entitlement() for e in body.entitlements],
    )
    answer_created(response, f"/api/v1/service-contracts/{contract_id}", is_new)
    return _answer(response, contract)


@router.get("/{contract_id}", response_model=ServiceContractView, dependencies=[Depends(any_role)])
async def get_service_contract(contract_id: UUID, response: Response, ctx: Ctx) -> ServiceContractView:
    return _answer(response, await use_cases.get_service_contract(ctx.uow(), contract_id))


@router.put("/{contract_id}/dates", response_model=ServiceContractView)
async def change_dates(contract_id: UUID, body: Dates, response: Response, principal: Changer, ctx: Ctx,
                       if_match: IfMatch = None) -> ServiceContractView:
    """Draft: both dates. Active: the start date is frozen and the end date can only be extended."""
    return await _change(ctx, principal, response, contract_id, if_match, lambda c, today: c.change_dates(body.start_date, body.end_date))


@router.post("/{contract_id}/cancellation", response_model=ServiceContractView)
async def cancel(contract_id: UUID, response: Response, principal: Changer, ctx: Ctx,
                 body: Cancellation | None = None, if_match: IfMatch = None) -> ServiceContractView:
    """Cancels the contract and its open lines and entitlements. Terminal."""
    reason = body.reason if body else ""
    return await _change(ctx, principal, response, contract_id, if_match, lambda c, today: c.cancel(today, reason))


# -- lines ----------------------------------------------------------------------------------------

@router.post("/{contract_id}/lines", status_code=status.HTTP_201_CREATED, response_model=ServiceContractView)
async def add_line(contract_id: UUID, body: NewLine, response: Response, principal: Changer, ctx: Ctx,
                   if_match: IfMatch = None) -> ServiceContractView:
    """MACD "add". On an active contract the line is Active from its start date (Draft before it)."""
    contract = await use_cases.add_line(ctx.uow(principal), ctx.clock, contract_id, body.line(), expected_version(if_match))
    return _answer(response, contract)


@router.delete("/{contract_id}/lines/{line_id}", response_model=ServiceContractView)
async def remove_line(contract_id: UUID, line_id: UUID, response: Response, principal: Changer, ctx: Ctx,
                      if_match: IfMatch = None) -> ServiceContractView:
    """Only a Draft line can be removed; its entitlements go with it."""
    return await _change(ctx, principal, response, contract_id, if_match, lambda c, today: c.remove_line(line_id))


@router.put("/{contract_id}/lines/{line_id}/dates", response_model=ServiceContractView)
async def change_line_dates(contract_id: UUID, line_id: UUID, body: Dates, response: Response, principal: Changer,
                            ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.change_line_dates(line_id, body.start_date, body.end_date))


@router.put("/{contract_id}/lines/{line_id}/quantity", response_model=ServiceContractView)
async def change_line_quantity(contract_id: UUID, line_id: UUID, body: Quantity, response: Response,
                               principal: Changer, ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    """MACD "change"."""
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.change_line_quantity(line_id, body.quantity))


@router.patch("/{contract_id}/lines/{line_id}", response_model=ServiceContractView)
async def edit_line(contract_id: UUID, line_id: UUID, body: LineFields, response: Response, principal: Changer,
                    ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    """Field edits (product name, unit price): allowed while Suspended too."""
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.edit_line(line_id, product=body.product, unit_price=body.unit_price))


@router.put("/{contract_id}/lines/{line_id}/coverage", response_model=ServiceContractView)
async def change_line_coverage(contract_id: UUID, line_id: UUID, body: Covers, response: Response,
                               principal: Changer, ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    """Which sold product / install base item the line covers; the line takes its state."""
    contract = await use_cases.change_line_coverage(
        ctx.uow(principal), ctx.clock, contract_id, line_id, body.sold_product_id, body.install_base_item_id, expected_version(if_match))
    return _answer(response, contract)


@router.post("/{contract_id}/lines/{line_id}/disconnection", response_model=ServiceContractView)
async def disconnect_line(contract_id: UUID, line_id: UUID, body: Disconnection, response: Response,
                          principal: Changer, ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    """MACD "disconnect": ends an Active line early; it expires after `end_date`."""
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.disconnect_line(line_id, body.end_date, today))


@router.post("/{contract_id}/lines/{line_id}/cancellation", response_model=ServiceContractView)
async def cancel_line(contract_id: UUID, line_id: UUID, response: Response, principal: Changer, ctx: Ctx,
                      if_match: IfMatch = None) -> ServiceContractView:
    return await _change(ctx, principal, response, contract_id, if_match, lambda c, today: c.cancel_line(line_id, today))


# -- entitlements ------------------------------------------------------------------------------------

@router.post("/{contract_id}/entitlements", status_code=status.HTTP_201_CREATED, response_model=ServiceContractView)
async def add_entitlement(contract_id: UUID, body: NewEntitlement, response: Response, principal: Changer, ctx: Ctx,
                          if_match: IfMatch = None) -> ServiceContractView:
    contract = await use_cases.add_entitlement(ctx.uow(principal), ctx.clock, contract_id, body.entitlement(), expected_version(if_match))
    return _answer(response, contract)


@router.delete("/{contract_id}/entitlements/{entitlement_id}", response_model=ServiceContractView)
async def remove_entitlement(contract_id: UUID, entitlement_id: UUID, response: Response, principal: Changer,
                             ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    return await _change(ctx, principal, response, contract_id, if_match, lambda c, today: c.remove_entitlement(entitlement_id))


@router.put("/{contract_id}/entitlements/{entitlement_id}/dates", response_model=ServiceContractView)
async def change_entitlement_dates(contract_id: UUID, entitlement_id: UUID, body: Dates, response: Response,
                                   principal: Changer, ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.change_entitlement_dates(entitlement_id, body.start_date, body.end_date))


@router.patch("/{contract_id}/entitlements/{entitlement_id}", response_model=ServiceContractView)
async def edit_entitlement(contract_id: UUID, entitlement_id: UUID, body: EntitlementEdit, response: Response,
                           principal: Changer, ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    fields = body.model_dump(exclude_unset=True)
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.edit_entitlement(entitlement_id, **fields))


@router.post("/{contract_id}/entitlements/{entitlement_id}/cancellation", response_model=ServiceContractView)
async def cancel_entitlement(contract_id: UUID, entitlement_id: UUID, response: Response, principal: Changer,
                             ctx: Ctx, if_match: IfMatch = None) -> ServiceContractView:
    return await _change(ctx, principal, response, contract_id, if_match,
                         lambda c, today: c.cancel_entitlement(entitlement_id, today))
