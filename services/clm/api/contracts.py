"""REST resources of contracting: /api/v1/contracts."""

import datetime as dt
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Date, IfMatch, answer_created, expected_version, replayed, with_version
from shared.events.activation import ActivationBlocked, ActivationMissing
from shared.events.contracts import Classification, Party
from shared.events.negotiation import TemplateUsed
from services.clm.application import activation, contracts as use_cases
from services.clm.domain.contract import Contract

router = APIRouter(prefix="/contracts", tags=["contracts"])

# RACI: request & drafting are done by Sales and Legal, accountable is the Contract Manager;
# activation & sync (phase 6) by Sales Ops, accountable the Contract Manager.
may_draft = require_roles(Role.SALES, Role.LEGAL_COUNSEL, Role.CONTRACT_MANAGER)
may_activate = require_roles(Role.SALES_OPS, Role.CONTRACT_MANAGER)


class DraftContract(BaseModel):
    contract_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    number: str | None = Field(None, max_length=64, description="Defaults to a generated number")
    title: str = Field(min_length=1, max_length=300)
    contract_model: str = Field("service_contract", max_length=64)
    parties: list[Party] = Field(min_length=1)
    start_date: Date
    end_date: Date
    time_zone: str = Field("UTC", description="IANA zone in which start and end dates are read")


class CurrentVersion(BaseModel):
    number: int
    sha256: str
    author: str


class ContractView(BaseModel):
    contract_id: UUID
    number: str
    title: str
    contract_model: str
    parties: list[Party]
    start_date: dt.date
    end_date: dt.date
    time_zone: str
    state: str
    version: int
    # Set on a contract drafted from a template (docs/contracting/drafting.md); none on one drafted by hand.
    template: TemplateUsed | None = None
    current_version: CurrentVersion | None = None
    classification: Classification | None = None
    open_deviations: int | None = None

    @classmethod
    def of(cls, contract: Contract) -> "ContractView":
        t, current = contract.terms, contract.current_version
        return cls(
            contract_id=t.contract_id, number=t.number, title=t.title, contract_model=t.contract_model,
            parties=t.parties, start_date=t.start_date, end_date=t.end_date, time_zone=t.time_zone,
            state=contract.state, version=contract.version, template=contract.template,
            current_version=CurrentVersion(number=current.version_number, sha256=current.document.sha256,
                                           author=current.author) if current else None,
            classification=contract.classification,
            open_deviations=len(contract.open_deviations) if current else None,
        )


class Activation(BaseModel):
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContractView, responses=replayed(ContractView))
async def draft_contract(
    body: DraftContract,
    response: Response,
    principal: Annotated[Principal, Depends(may_draft)],
    ctx: Annotated[ServiceContext, Depends(context)],
) -> ContractView:
    contract_id = body.contract_id or uuid4()
    contract, is_new = await use_cases.draft_contract(
        ctx.uow(principal), contract_id,
        number=body.number or f"CNT-{contract_id.hex[:10].upper()}",
        title=body.title, contract_model=body.contract_model, parties=body.parties,
        start_date=body.start_date, end_date=body.end_date, time_zone=body.time_zone,
    )
    answer_created(response, f"/api/v1/contracts/{contract_id}", is_new)
    with_version(response, contract.version)
    return ContractView.of(contract)


@router.get("/{contract_id}", response_model=ContractView, dependencies=[Depends(any_role)])
async def get_contract(contract_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)]) -> ContractView:
    contract = await use_cases.get_contract(ctx.uow(), contract_id)
    with_version(response, contract.version)
    return ContractView.of(contract)


@router.post("/{contract_id}/activation", response_model=ContractView)
async def activate_contract(
    contract_id: UUID,
    principal: Annotated[Principal, Depends(may_activate)],
    ctx: Annotated[ServiceContext, Depends(context)],
    response: Response,
    body: Activation | None = None,
    if_match: IfMatch = None,
) -> ContractView:
    expected = expected_version(if_match, body.expected_version if body else None)
    contract = await activation.activate_by_hand(ctx.uow(principal), contract_id, ctx.clock, by=principal.subject,
                                                 expected_version=expected)
    with_version(response, contract.version)
    return ContractView.of(contract)


class ActivationView(BaseModel):
    """Order readiness: what order sync would miss if the contract were activated now."""

    contract_id: UUID
    state: str | None = Field(description="draft or active; none while only requested")
    executed: bool
    start_date: dt.date | None
    ready: bool = Field(description="nothing missing (activation still waits for execution and the start date)")
    missing: list[ActivationMissing]
    blocked: ActivationBlocked | None = Field(None, description="the last ActivationBlocked, while not activated")
    activated_at: dt.datetime | None = None


@router.get("/{contract_id}/activation", response_model=ActivationView, dependencies=[Depends(any_role)])
async def get_activation(contract_id: UUID, response: Response,
                         ctx: Annotated[ServiceContext, Depends(context)]) -> ActivationView:
    contract, missing = await activation.readiness(ctx.uow(), contract_id)
    with_version(response, contract.version)
    active = contract.activated
    return ActivationView(
        contract_id=contract_id, state=contract.state, executed=contract.executed is not None,
        start_date=contract.contract_dates[0] if contract.terms or contract.executed else None,
        ready=not missing, missing=missing, blocked=contract.blocked if active is None else None,
        activated_at=active.activated_at if active else None,
    )
