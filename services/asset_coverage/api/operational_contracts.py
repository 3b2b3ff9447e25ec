"""REST resources of operational contracts: /api/v1/operational-contracts, vendor contracts
operations records itself and the operational side of contracts from contracting.

Answers carry the contract's version (also as ETag); send `If-Match: <version>` to refuse a change
with 409 if the contract moved on. A vendor contract's id follows from its natural key (vendor +
vendor contract number): POSTing it again finds the same contract (200), revised if its terms differ.
"""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, any_role
from shared.backbone.rest import (
    Cursor, Date, IfMatch, Limit, Page, answer_created, expected_version, page_of, replayed, with_version,
)
from shared.events.coverage import ContractOrigin, OperationalTerms, VendorContractModel, VendorContractTerms
from services.asset_coverage.api.bodies import OperationalTermsBody, VendorContractTermsBody
from services.asset_coverage.api.ownership import costs_only, may_manage, may_set_operational, owned
from services.asset_coverage.application import registry
from services.asset_coverage.domain.operational_contract import OperationalContract, OperationalState

router = APIRouter(prefix="/operational-contracts", tags=["operational contracts"])

Ctx = Annotated[ServiceContext, Depends(context)]
Manager = Annotated[Principal, Depends(may_manage)]


class NewVendorContract(BaseModel):
    terms: VendorContractTermsBody
    operational: OperationalTermsBody = Field(default_factory=OperationalTermsBody)
    predecessor_id: UUID | None = Field(None, description="the contract this one renews (its links carry over)")


class TermsChange(BaseModel):
    """The terms to change (those left out stay); vendor and vendor contract number identify the
    contract and never change."""

    number: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=300)
    customer: str | None = Field(None, max_length=200)
    contract_model: VendorContractModel | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    time_zone: str | None = Field(None, max_length=64)


class Cancellation(BaseModel):
    effective_on: Date = Field(description="the first day the contract covers nothing")
    reason: str | None = Field(None, max_length=500)


class LinkView(BaseModel):
    asset_id: str
    asset_name: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    carried_from: UUID | None


class OperationalContractView(BaseModel):
    contract_id: UUID
    origin: ContractOrigin
    state: OperationalState
    number: str | None
    name: str | None
    contract_model: str | None
    start_date: dt.date
    end_date: dt.date
    time_zone: str
    terms: VendorContractTerms | None = Field(description="a vendor contract's terms (none for one from contracting)")
    operational: OperationalTerms
    predecessor_id: UUID | None
    canceled_on: dt.date | None
    links: list[LinkView]
    version: int

    @classmethod
    def of(cls, c: OperationalContract) -> "OperationalContractView":
        return cls(
            contract_id=UUID(c.id), origin=c.origin, state=c.state, number=c.number, name=c.name,
            contract_model=c.contract_model, start_date=c.start_date, end_date=c.end_date, time_zone=c.time_zone,
            terms=c.vendor_terms, operational=c.operational, predecessor_id=c.predecessor_id,
            canceled_on=c.canceled_on, version=c.version,
            links=[LinkView(asset_id=l.asset_id, asset_name=l.asset_name, effective_from=l.effective_from,
                            effective_to=l.effective_to, carried_from=l.carried_from) for l in c.links.values()],
        )


class OperationalContractSummary(BaseModel):
    contract_id: UUID
    origin: ContractOrigin
    state: OperationalState
    number: str | None
    vendor: str | None
    vendor_contract_number: str | None
    name: str | None
    customer: str | None
    contract_model: str | None
    start_date: dt.date
    end_date: dt.date
    time_zone: str
    owners: list[str]
    version: int


def _answer(response: Response, contract: OperationalContract) -> OperationalContractView:
    with_version(response, contract.version)
    return OperationalContractView.of(contract)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OperationalContractView,
             responses=replayed(OperationalContractView))
async def register_vendor_contract(body: NewVendorContract, response: Response, principal: Manager,
                                   ctx: Ctx) -> OperationalContractView:
    """Registers a vendor contract in Draft (201; the scheduler activates it on its start date). The
    natural key registered already answers 200 with the contract, revised to these terms if they
    differ (the rules of its state apply: 409 `active.start_date_frozen`, `active.end_date_extend_only`,
    `state.terminal`)."""
    contract, outcome = await registry.register_vendor_contract(
        ctx.uow(principal), body.terms.terms(), body.operational.terms(), body.predecessor_id)
    answer_created(response, f"/api/v1/operational-contracts/{contract.id}", outcome == "created")
    return _answer(response, contract)


@router.get("", response_model=Page[OperationalContractSummary], dependencies=[Depends(any_role)])
async def list_contracts(
    ctx: Ctx,
    state: Annotated[OperationalState | None, Query()] = None,
    origin: Annotated[ContractOrigin | None, Query()] = None,
    vendor: Annotated[str | None, Query(max_length=200, description="whatever its case")] = None,
    contract_model: Annotated[str | None, Query(max_length=64)] = None,
    ends_before: Annotated[Date | None, Query(description="end date before this day")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict:
    """Operational contracts by id, optionally of one state, origin, vendor or model, or ending before a day."""
    rows = await registry.list_contracts(ctx.uow(), state=state, origin=origin, vendor=vendor,
                                         contract_model=contract_model, ends_before=ends_before, after=cursor,
                                         limit=limit)
    return page_of([OperationalContractSummary.model_validate(r, from_attributes=True) for r in rows], limit,
                   key=lambda c: c.contract_id)


@router.get("/{contract_id}", response_model=OperationalContractView, dependencies=[Depends(any_role)])
async def get_contract(contract_id: UUID, response: Response, ctx: Ctx) -> OperationalContractView:
    return _answer(response, await registry.get_contract(ctx.uow(), contract_id))


@router.patch("/{contract_id}", response_model=OperationalContractView)
async def revise_terms(contract_id: UUID, body: TermsChange, response: Response, principal: Manager, ctx: Ctx,
                       if_match: IfMatch = None) -> OperationalContractView:
    """Changes a vendor contract's terms. Draft: any; Active: the start date is fixed (409
    `active.start_date_frozen`) and the end date only extends (409 `active.end_date_extend_only`);
    expired or canceled: 409 `state.terminal`. A contract from contracting: 403
    `ownership.legal_terms_owned_by_contracting` (its legal terms change in clm)."""
    with owned():
        contract, _ = await registry.change_terms(ctx.uow(principal), contract_id, body.model_dump(exclude_unset=True),
                                                  expected_version(if_match))
    return _answer(response, contract)


@router.put("/{contract_id}/operational-terms", response_model=OperationalContractView)
async def set_operational_terms(
    contract_id: UUID, body: OperationalTermsBody, response: Response,
    principal: Annotated[Principal, Depends(may_set_operational)], ctx: Ctx, if_match: IfMatch = None,
) -> OperationalContractView:
    """Replaces the operational terms (SLA, warranty, costs, renewal options, owners) of any
    contract, from contracting or not. Finance changes the costs only (else 403
    `ownership.finance_sets_costs_only`)."""
    with owned():
        contract, _ = await registry.set_operational_terms(ctx.uow(principal), contract_id, body.terms(),
                                                           expected_version(if_match), costs_only=costs_only(principal))
    return _answer(response, contract)


@router.post("/{contract_id}/cancel", response_model=OperationalContractView)
async def cancel_contract(contract_id: UUID, body: Cancellation, response: Response, principal: Manager, ctx: Ctx,
                          if_match: IfMatch = None) -> OperationalContractView:
    """Cancels a vendor contract: it covers nothing from `effective_on` (terminal). The same
    cancellation again changes nothing; a contract from contracting ends in clm (403)."""
    with owned():
        contract, _ = await registry.cancel_contract(ctx.uow(principal), contract_id, body.effective_on, body.reason,
                                                     expected_version(if_match))
    return _answer(response, contract)
