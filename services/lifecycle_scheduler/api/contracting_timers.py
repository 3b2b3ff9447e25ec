"""REST resources of contracting's timers (phases 4-6): /api/v1/approval-steps/{step_id}/timers,
/api/v1/signature-envelopes/{envelope_id}/timers and /api/v1/contracts/{contract_id}/start-timer."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import approval_deadlines, contract_starts, signature_dates

router = APIRouter(tags=["contracting timers"])


class ApprovalTimerView(BaseModel):
    level: int = Field(description="0: the step's own approvers; n: the n-th escalation level")
    mark: Literal["at_risk", "deadline"]
    due_at: dt.datetime = Field(description="when the mark falls due: the level's at_risk_at or due_at")
    step_due_at: dt.datetime = Field(description="the level's deadline")
    fired_at: dt.datetime | None


class ApprovalStepTimersView(BaseModel):
    step_id: UUID
    contract_id: UUID
    timers: list[ApprovalTimerView] = Field(description="by level, in due order; they stay listed once fired")


class SignatureDeadlineView(BaseModel):
    due_at: dt.datetime = Field(description="the envelope's deadline")
    reminder_every_days: int | None
    fired_at: dt.datetime | None


class SignatureReminderView(BaseModel):
    signer_id: UUID
    number: int = Field(description="1 for the first reminder, 2 for the second, ...")
    invited_at: dt.datetime
    due_at: dt.datetime
    fired_at: dt.datetime | None


class SignatureEnvelopeTimersView(BaseModel):
    envelope_id: UUID
    deadline: SignatureDeadlineView | None = Field(description="None once the envelope ended before its deadline")
    reminders: list[SignatureReminderView] = Field(
        description="each signer's reminders sent and the next one due; a signer who signed has no next one")


class ContractStartTimerView(BaseModel):
    contract_id: UUID
    envelope_id: UUID
    start_date: dt.date
    time_zone: str
    due_at: dt.datetime = Field(description="the start of start_date in the contract's zone")
    fired_at: dt.datetime | None


@router.get("/approval-steps/{step_id}/timers", response_model=ApprovalStepTimersView,
            dependencies=[Depends(any_role)])
async def get_approval_step_timers(step_id: UUID,
                                   ctx: Annotated[ServiceContext, Depends(context)]) -> ApprovalStepTimersView:
    """404 when the scheduler holds no timer of the step: unknown to it, or closed (granted,
    rejected, invalidated) before any of its timers fired."""
    rows = await approval_deadlines.get_timers(ctx.uow(), step_id)
    return ApprovalStepTimersView(step_id=step_id, contract_id=rows[0].contract_id, timers=[ApprovalTimerView(
        level=r.level, mark=r.mark, due_at=r.due_at, step_due_at=r.step_due_at, fired_at=r.fired_at) for r in rows])


@router.get("/signature-envelopes/{envelope_id}/timers", response_model=SignatureEnvelopeTimersView,
            dependencies=[Depends(any_role)])
async def get_signature_envelope_timers(envelope_id: UUID,
                                        ctx: Annotated[ServiceContext, Depends(context)]) -> SignatureEnvelopeTimersView:
    """404 when the scheduler holds no timer of the envelope: unknown to it, or ended before its
    deadline with no reminder sent."""
    deadline, reminders = await signature_dates.get_timers(ctx.uow(), envelope_id)
    return SignatureEnvelopeTimersView(
        envelope_id=envelope_id,
        deadline=None if deadline is None else SignatureDeadlineView(
            due_at=deadline.due_at, reminder_every_days=deadline.reminder_every_days, fired_at=deadline.fired_at),
        reminders=[SignatureReminderView(signer_id=r.signer_id, number=r.number, invited_at=r.invited_at,
                                         due_at=r.due_at, fired_at=r.fired_at) for r in reminders])


@router.get("/contracts/{contract_id}/start-timer", response_model=ContractStartTimerView,
            dependencies=[Depends(any_role)])
async def get_contract_start_timer(contract_id: UUID,
                                   ctx: Annotated[ServiceContext, Depends(context)]) -> ContractStartTimerView:
    """404 when the contract was not executed (as far as the scheduler knows)."""
    t = await contract_starts.get_timer(ctx.uow(), contract_id)
    return ContractStartTimerView(contract_id=t.contract_id, envelope_id=t.envelope_id, start_date=t.start_date,
                                  time_zone=t.time_zone, due_at=t.due_at, fired_at=t.fired_at)
