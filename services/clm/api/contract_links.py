"""REST resources of amendments and renewal successors (phase 7): /api/v1/contracts/{id}/amendments,
/api/v1/contracts/{id}/renewal and /api/v1/contracts/{id}/links.

Both creates open a new contract request (in `draft`, prefilled from the executed or active
contract), which then goes the normal way: submission, drafting, negotiation, approval, signature,
activation (docs/contracting/amendments_and_renewals.md)."""

import datetime as dt
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Date, answer_created, replayed, with_version
from shared.events.contracts import RequestState
from services.clm.api.contract_requests import ContractRequestView
from services.clm.application import contract_links as use_cases
from services.clm.domain.contract import Contract

router = APIRouter(prefix="/contracts", tags=["amendments and renewals"])

# RACI of phase 7: Sales responsible, the Contract Manager accountable.
may_link = require_roles(Role.SALES, Role.CONTRACT_MANAGER)


class NewAmendment(BaseModel):
    amendment_id: UUID | None = Field(None, description="Client-chosen id of the amendment makes retries idempotent")
    effective_date: Date = Field(description="From this day the amendment's executed terms win; within the parent's dates",
                                 examples=["2027-07-01"])
    title: str | None = Field(None, min_length=1, max_length=300, description="Defaults to 'Amendment to <title>'")


class NewRenewal(BaseModel):
    successor_id: UUID | None = Field(None, description="Client-chosen id of the successor; a retry answers the "
                                                        "successor already opened, whatever its id")


class LinkView(BaseModel):
    relation: str = Field(examples=["amendment", "successor"])
    parent_id: UUID = Field(description="the amended contract, or the predecessor of a successor")
    effective_date: dt.date = Field(description="an amendment's effective date; a successor's start")
    linked_by: str
    at: dt.datetime


class LinkedRequestView(ContractRequestView):
    link: LinkView

    @classmethod
    def of(cls, c: Contract) -> "LinkedRequestView":
        return cls(**dict(ContractRequestView.of(c)), link=LinkView(**c.link.model_dump(include=set(LinkView.model_fields))))


class LinkedContract(BaseModel):
    contract_id: UUID
    number: str
    title: str
    state: RequestState = Field(description="the state of its request")
    effective_date: dt.date | None = None

    @classmethod
    def of(cls, c: Contract | None) -> "LinkedContract | None":
        if c is None:
            return None
        return cls(contract_id=c.contract_uuid, number=c.requested.number, title=c.request_terms.title,
                   state=c.request_state, effective_date=c.link.effective_date if c.link else None)


class ContractLinks(BaseModel):
    contract_id: UUID
    relation: str | None = Field(description="amendment or successor when this contract is linked, else none")
    parent: LinkedContract | None = Field(description="the contract this one amends")
    amendments: list[LinkedContract] = Field(description="by effective date")
    predecessor: LinkedContract | None = Field(description="the contract this one renews")
    successor: LinkedContract | None = Field(description="the live (not cancelled) renewal of this contract")


@router.post("/{contract_id}/amendments", status_code=status.HTTP_201_CREATED, response_model=LinkedRequestView,
             responses=replayed(LinkedRequestView))
async def post_amendment(
    contract_id: UUID, body: NewAmendment, response: Response,
    principal: Annotated[Principal, Depends(may_link)], ctx: Annotated[ServiceContext, Depends(context)],
) -> LinkedRequestView:
    """A request amending an executed or active contract (409 `link.parent_not_executed` otherwise),
    prefilled from its request terms; `effective_date` within its dates (422
    `link.effective_date_outside_term`); an amendment is not amended itself (409 `link.amend_the_parent`)."""
    amendment_id = body.amendment_id or uuid4()
    amendment, is_new = await use_cases.amend(ctx.uow(principal), contract_id, amendment_id,
                                              effective_date=body.effective_date, title=body.title,
                                              by=principal.subject, at=ctx.clock.now())
    answer_created(response, f"/api/v1/contract-requests/{amendment_id}", is_new)
    with_version(response, amendment.version)
    return LinkedRequestView.of(amendment)


@router.post("/{contract_id}/renewal", status_code=status.HTTP_201_CREATED, response_model=LinkedRequestView,
             responses=replayed(LinkedRequestView))
async def post_renewal(
    contract_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_link)], ctx: Annotated[ServiceContext, Depends(context)],
    body: NewRenewal | None = None,
) -> LinkedRequestView:
    """The successor request of an executed or active contract (409 `link.parent_not_executed`
    otherwise): its terms and lines, starting the day after its current end, for the same term. A
    contract has one live successor: while it is not cancelled, a renew answers it (200)."""
    successor, is_new = await use_cases.renew(ctx.uow(principal), contract_id, (body and body.successor_id) or uuid4(),
                                              by=principal.subject, at=ctx.clock.now())
    answer_created(response, f"/api/v1/contract-requests/{successor.contract_uuid}", is_new)
    with_version(response, successor.version)
    return LinkedRequestView.of(successor)


@router.get("/{contract_id}/links", response_model=ContractLinks, dependencies=[Depends(any_role)])
async def get_links(contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]) -> ContractLinks:
    """The contract's parent (of an amendment), its amendments, its predecessor and live successor."""
    links = await use_cases.links_of(ctx.uow(), contract_id)
    link = links.contract.link
    return ContractLinks(
        contract_id=contract_id, relation=link.relation if link else None, parent=LinkedContract.of(links.parent),
        amendments=[LinkedContract.of(c) for c in links.amendments], predecessor=LinkedContract.of(links.predecessor),
        successor=LinkedContract.of(links.successor))
