"""clm's approval events (phase 4) into the shared contract record: the route of each round, each
step (approvers, state, who granted or rejected it and when, at risk, escalation level) and the
contract's approval state. They come on the contract's stream, in order (adapters/contracting_records.py)."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.approvals import (
    ApprovalAtRisk, ApprovalCompleted, ApprovalEscalated, ApprovalGranted, ApprovalRejected, ApprovalRouted,
    ApprovalsInvalidated, ApprovalStepOpened,
)
from shared.events.envelope import Envelope
from services.projection.adapters import contract_records as records
from services.projection.adapters import contracting_records as progress


def approvers(items) -> list[dict]:
    return [a.model_dump() for a in items]


async def _routed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalRouted = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    await progress.merge_progress(
        uow.conn, event.contract_id, envelope.time, approval_round=event.round, approval_state="awaiting_approval",
        approval_version=event.version_number, approved_version=None, matrix_id=event.matrix_id,
        matrix_version=event.matrix_version, approval_since=event.at, approval_reason=None)
    for n, step in enumerate(event.steps, start=1):
        await progress.add_step(
            uow.conn, event.contract_id, step.step_id, round=event.round, position=n, name=step.name,
            sequence=step.sequence, approvers=approvers(step.approvers), informed_roles=list(step.informed_roles),
            sla=step.sla, state="waiting", level=0)


async def _opened(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalStepOpened = envelope.event
    await progress.update_steps(uow.conn, event.contract_id, [event.step_id], state="open", level=event.level,
                                approvers=approvers(event.approvers), opened_at=event.opened_at,
                                at_risk_at=event.at_risk_at, due_at=event.due_at, at_risk_since=None)


async def _granted(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalGranted = envelope.event
    await progress.update_steps(uow.conn, event.contract_id, [event.step_id], state="granted", decided_by=event.by,
                                decided_roles=list(event.roles), decided_at=event.at, comment=event.comment)


async def _rejected(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalRejected = envelope.event
    others = [s for s in event.closed_step_ids if s != event.step_id]
    await progress.update_steps(uow.conn, event.contract_id, others, only_state=("waiting", "open"), state="closed")
    await progress.update_steps(uow.conn, event.contract_id, [event.step_id], state="rejected", decided_by=event.by,
                                decided_roles=list(event.roles), decided_at=event.at, comment=event.comment)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, approval_state="rejected",
                                  approval_since=event.at)


async def _at_risk(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalAtRisk = envelope.event
    await progress.update_steps(uow.conn, event.contract_id, [event.step_id], at_risk_since=event.at)


async def _escalated(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalEscalated = envelope.event
    await progress.update_steps(uow.conn, event.contract_id, [event.step_id], level=event.to_level,
                                approvers=approvers(event.approvers), escalated_at=event.at)


async def _completed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalCompleted = envelope.event
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, approval_state="approved",
                                  approved_version=event.version_number, approval_since=event.at)


async def _invalidated(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ApprovalsInvalidated = envelope.event
    await progress.update_steps(uow.conn, event.contract_id, event.closed_step_ids, only_state=("waiting", "open"),
                                state="closed")
    await progress.update_round(uow.conn, event.contract_id, event.round, ("granted",), state="invalidated")
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, approval_state="invalidated",
                                  approved_version=None, approval_since=event.at, approval_reason=event.reason)


HANDLERS: HandlerTable = {
    ApprovalRouted: _routed,
    ApprovalStepOpened: _opened,
    ApprovalGranted: _granted,
    ApprovalRejected: _rejected,
    ApprovalAtRisk: _at_risk,
    ApprovalEscalated: _escalated,
    ApprovalCompleted: _completed,
    ApprovalsInvalidated: _invalidated,
}
