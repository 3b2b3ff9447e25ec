"""REST resources of renewal terms (phase 7): /api/v1/contracts/{id}/renewal-terms (set them before
activation; read them with the current and the next periods' dates), .../termination-notice and
.../renewal-reminders/acknowledge. docs/contracting/renewals.md.

RACI phase 7: Sales R, Legal Counsel C, Contract Manager A: those three set terms and give notice;
an owner of the terms (or a contract manager) acknowledges reminders; everyone reads."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.errors import NotFound
from shared.backbone.rest import IfMatch, expected_version, whole_number, with_version
from shared.events.renewal_terms import ContractPeriod, ReminderAnchor, RenewalKind, RenewalTerms
from services.clm.application import renewals
from services.clm.domain.contract import Contract
from services.clm.domain.renewal_terms import MAX_PERIODS_LISTED, periods

router = APIRouter(prefix="/contracts", tags=["renewal terms"])
may_set = require_roles(Role.SALES, Role.CONTRACT_MANAGER, Role.LEGAL_COUNSEL)


class RenewalTermsInput(BaseModel):
    initial_term: str | None = Field(None, max_length=40, description="ISO 8601; the contract's start..end when absent; "
                                     "else it must end on the contract's end date", examples=["P12M"])
    renewal_term: str | None = Field(None, max_length=40, description="each renewal's length; the initial term when absent",
                                     examples=["P12M"])
    renewal: RenewalKind = Field(description="tacit: renews unless notice is given; express: ends unless renewed")
    notice_period: str = Field(max_length=40, examples=["P90D"])
    lead_time: str = Field("P0D", max_length=40, description="internal lead time before the notice deadline",
                           examples=["P30D"])
    max_renewals: whole_number(0, 1000) | None = Field(None, description="tacit renewals allowed; unlimited when absent")
    reminder_offsets_days: list[whole_number(0, 3660)] = Field(
        [90, 60, 30, 0], max_length=20, description="days before the cancel-by date and before the end date")
    owners: list[Annotated[str, Field(min_length=1, max_length=254)]] = Field(
        min_length=1, max_length=20, description="user ids, e-mail addresses or role:<name>: who is reminded",
        examples=[["ann@example.com", "role:sales"]])
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class NoticeInput(BaseModel):
    reason: str | None = Field(None, max_length=2000, examples=["budget cut"])
    expected_version: int | None = Field(None, description="Refuse with 409 if the contract moved on")


class AcknowledgeInput(BaseModel):
    period_number: whole_number(1, 100000)
    anchor: ReminderAnchor = Field(description="cancel_by or end: whose reminders stop")
    note: str | None = Field(None, max_length=2000)


class NoticeView(BaseModel):
    period_number: int
    given_on: dt.date
    end_date: dt.date = Field(description="the contract ends on this day instead of renewing")
    reason: str | None
    given_by: str
    at: dt.datetime


class AcknowledgementView(BaseModel):
    period_number: int
    anchor: ReminderAnchor
    note: str | None
    acknowledged_by: str
    at: dt.datetime


class RenewalTermsView(BaseModel):
    contract_id: UUID
    terms: RenewalTerms
    start_date: dt.date
    time_zone: str
    origin: str = Field(description="manual, or executed_terms (derived at activation when nobody set terms)")
    set_by: str
    set_at: dt.datetime
    current_period: ContractPeriod
    renewals: int = Field(description="tacit renewals so far")
    periods: list[ContractPeriod] = Field(description="the current period and the next ones the terms allow")
    termination_notice: NoticeView | None
    acknowledgements: list[AcknowledgementView]
    version: int

    @classmethod
    def of(cls, contract: Contract, count: int) -> "RenewalTermsView":
        r, notice = contract.renewal, contract.notice
        return cls(
            contract_id=contract.contract_uuid, terms=r.terms, start_date=r.start_date, time_zone=r.time_zone,
            origin=r.origin, set_by=r.set_by, set_at=r.at, current_period=contract.current_period,
            renewals=contract.renewals,
            periods=periods(contract.renewal_terms, r.start_date, count, first=contract.current_period.number),
            termination_notice=NoticeView(**notice.model_dump(include=set(NoticeView.model_fields))) if notice else None,
            acknowledgements=[AcknowledgementView(**a.model_dump(include=set(AcknowledgementView.model_fields)))
                              for a in contract.acknowledged.values()],
            version=contract.version)


PeriodCount = Annotated[int, Query(ge=1, le=MAX_PERIODS_LISTED, description="how many periods to list, "
                                                                             "from the current one")]


def _answer(response: Response, contract: Contract, count: int = 3) -> RenewalTermsView:
    if contract.renewal is None:
        raise NotFound("renewal terms", f"of contract {contract.id}", field="contract_id")
    with_version(response, contract.version)
    return RenewalTermsView.of(contract, count)


@router.put("/{contract_id}/renewal-terms", response_model=RenewalTermsView)
async def set_renewal_terms(contract_id: UUID, body: RenewalTermsInput, response: Response,
                            principal: Annotated[Principal, Depends(may_set)],
                            ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None,
                            periods: PeriodCount = 3) -> RenewalTermsView:
    """Sets the renewal terms before activation (409 renewal_terms.locked_after_activation after it);
    durations are ISO 8601 (422 renewal_terms.duration_invalid), the initial term agrees with the
    contract's dates (422 renewal_terms.initial_term_mismatch). The same terms again change nothing."""
    contract = await renewals.set_terms(
        ctx.uow(principal), contract_id, body.model_dump(exclude={"expected_version"}), by=principal.subject,
        expected_version=expected_version(if_match, body.expected_version))
    return _answer(response, contract, periods)


@router.get("/{contract_id}/renewal-terms", response_model=RenewalTermsView, dependencies=[Depends(any_role)])
async def get_renewal_terms(contract_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)],
                            periods: PeriodCount = 3) -> RenewalTermsView:
    """The terms, the current period and the next ones (end, notice deadline, cancel-by), the
    termination notice and the acknowledged reminders (404 before terms are set)."""
    return _answer(response, await renewals.get_contract(ctx.uow(), contract_id), periods)


@router.post("/{contract_id}/termination-notice", response_model=RenewalTermsView)
async def give_termination_notice(contract_id: UUID, body: NoticeInput, response: Response,
                                  principal: Annotated[Principal, Depends(may_set)],
                                  ctx: Annotated[ServiceContext, Depends(context)],
                                  if_match: IfMatch = None) -> RenewalTermsView:
    """Notice today (in the contract's zone): the active contract ends at the current period's end.
    After the notice deadline 409 termination.after_notice_deadline (the body names the deadline and
    `next_possible_end`); a second notice 409 termination.already_given."""
    contract = await renewals.give_notice(ctx.uow(principal), contract_id, reason=body.reason, by=principal.subject,
                                          expected_version=expected_version(if_match, body.expected_version))
    return _answer(response, contract)


@router.post("/{contract_id}/renewal-reminders/acknowledge", response_model=RenewalTermsView)
async def acknowledge_reminders(contract_id: UUID, body: AcknowledgeInput, response: Response,
                                principal: Annotated[Principal, Depends(any_role)],
                                ctx: Annotated[ServiceContext, Depends(context)]) -> RenewalTermsView:
    """Stops the reminders of a period's cancel-by or end date. By an owner (their id or e-mail, or
    role:<a role of theirs>) or a contract manager, else 403 renewal_reminders.not_an_owner; a
    second acknowledgement answers 200 and changes nothing."""
    contract = await renewals.acknowledge(ctx.uow(principal), contract_id, period_number=body.period_number,
                                          anchor=body.anchor, note=body.note, by=principal.subject,
                                          roles=principal.roles)
    return _answer(response, contract)
