"""Use cases of approval SLA timers: kept in step with clm's approval events (ApprovalStepOpened
sets a level's at-risk and deadline timers and replaces the previous level's; ApprovalGranted,
ApprovalRejected and ApprovalsInvalidated drop the closed steps' unfired ones, a cancelled request
all of its contract's), fired once each as
ApprovalStepAtRiskReached / ApprovalStepDeadlineReached on the step's stream.

Handlers run in the consumer's unit of work with the inbox row; firing claims due rows (locked,
skipped by other replicas) and marks them fired in the transaction that appends the events and
requests their notifications (approval_notifications). A mark already due when its level opens
fires on the next sweep."""

from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.approvals import ApprovalGranted, ApprovalRejected, ApprovalsInvalidated, ApprovalStepOpened
from shared.events.contracts import ContractRequestStateChanged
from shared.events.envelope import Envelope
from services.lifecycle_scheduler.adapters import approval_timers
from services.lifecycle_scheduler.application import approval_notifications, notifying
from services.lifecycle_scheduler.domain.approval_deadlines import ApprovalDeadlines, marks_of

ACTOR = "lifecycle_scheduler"


async def _step_opened(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ApprovalStepOpened = envelope.event
    recipients = approval_notifications.recipients_of(e.approvers)
    await approval_timers.open_level(uow.conn, e.step_id, e.level, e.contract_id, e.due_at,
                                     marks_of(e.at_risk_at, e.due_at), recipients)
    if e.level > 0:
        await approval_notifications.escalated(uow.conn, e.step_id, e.contract_id, e.level, e.due_at, recipients,
                                               uow.clock.now())


async def _granted(uow: UnitOfWork, envelope: Envelope) -> None:
    await approval_timers.drop_unfired(uow.conn, [envelope.event.step_id])


async def _rejected(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ApprovalRejected = envelope.event
    await approval_timers.drop_unfired(uow.conn, [e.step_id, *e.closed_step_ids])


async def _invalidated(uow: UnitOfWork, envelope: Envelope) -> None:
    await approval_timers.drop_unfired(uow.conn, list(envelope.event.closed_step_ids))


async def _request_moved(uow: UnitOfWork, envelope: Envelope) -> None:
    """A request cancelled while steps were open: nobody is warned or escalated to about it."""
    e: ContractRequestStateChanged = envelope.event
    if e.to_state == "cancelled":
        await approval_timers.drop_unfired_of_contract(uow.conn, e.contract_id)


HANDLERS: HandlerTable = {
    ApprovalStepOpened: _step_opened,
    ApprovalGranted: _granted,
    ApprovalRejected: _rejected,
    ApprovalsInvalidated: _invalidated,
    ContractRequestStateChanged: _request_moved,
}


async def fire_due_approval_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due approval timers in one transaction; returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await approval_timers.claim_due(uow.conn, now, batch_size)
        await uow.prefetch([ApprovalDeadlines.stream_id(t.step_id) for t in due])  # one read for the batch
        for timer in due:
            step_id = UUID(str(timer.step_id))
            deadlines = await uow.get(ApprovalDeadlines, ApprovalDeadlines.stream_id(step_id)) \
                or ApprovalDeadlines.for_step(step_id)
            uow.add(deadlines)
            contract_id = UUID(str(timer.contract_id))
            if deadlines.reach(contract_id, timer.level, timer.mark, timer.due_at, timer.step_due_at):
                notify = approval_notifications.at_risk if timer.mark == "at_risk" else approval_notifications.deadline
                await notify(uow.conn, step_id, contract_id, timer.level, timer.step_due_at, list(timer.recipients), now)
        await approval_timers.mark_fired(uow.conn, due, now)
        await uow.commit()
        return len(due)


async def get_timers(uow: UnitOfWork, step_id: UUID) -> list:
    """The step's timers, fired or not; NotFound when there is none (unknown step, or one closed
    before any of its timers fired)."""
    async with uow:
        rows = await approval_timers.timers_of(uow.conn, step_id)
        if not rows:
            raise NotFound("approval_step_timers", step_id)
        return rows
