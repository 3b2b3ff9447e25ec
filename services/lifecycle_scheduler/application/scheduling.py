"""Use cases of the scheduler: schedule on activation, fire what is due (legal contracts here,
service contracts in timetables, quotes in quote_validity, vendor contracts in
operational_contract_dates, contracting's approvals, signatures and starts in approval_deadlines,
signature_dates and contract_starts)."""

import asyncio
from functools import partial
from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.logging import get_logger
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope
from services.lifecycle_scheduler.adapters import timers
from services.lifecycle_scheduler.application import (
    approval_deadlines, contract_periods, contract_starts, link_dates, obligation_dates, operational_contract_dates,
    quote_validity, renewal_deadlines, signature_dates, timetables,
)
from services.lifecycle_scheduler.domain.schedule import ContractSchedule

log = get_logger(__name__)
EXPIRY = "expiry"


async def schedule_expiry(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractActivated: the legal contract's expiry timer is set. With renewal terms the current
    period's end is the expiry, and its timer (contract_periods) decides whether it renews."""
    event: ContractActivated = envelope.event
    period = await contract_periods.governed_period(uow.conn, event.contract_id)
    schedule = await uow.get(ContractSchedule, str(event.contract_id)) or ContractSchedule.for_contract(event.contract_id)
    uow.add(schedule)
    schedule.schedule_expiry(period.end_date if period else event.end_date, event.time_zone)
    if schedule.pending_events and not schedule.expired and period is None:
        await timers.set_timer(uow.conn, event.contract_id, EXPIRY, schedule.due_at)


async def fire_due_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due timers in one transaction; returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor="lifecycle_scheduler") as uow:
        due = await timers.claim_due(uow.conn, now, batch_size)
        for timer in due:
            schedule = await uow.get(ContractSchedule, str(timer.contract_id))
            schedule.expire_if_due(now)
            await timers.mark_fired(uow.conn, timer.contract_id, timer.kind, now)
        await uow.commit()
        return len(due)


async def run_timers(ctx: ServiceContext, stop: asyncio.Event) -> None:
    """Background loop. A timer that fell due while the service was down fires on the first sweep."""
    tick = getattr(ctx.settings, "scheduler_tick_seconds", 1.0)
    renewal_deadlines.offsets.cache_clear()  # RENEWAL_TASK_OFFSETS_DAYS as this start's environment says
    obligation_dates.settings.cache_clear()  # OBLIGATION_OVERDUE_REPEAT_DAYS, OBLIGATION_ESCALATE_AFTER likewise
    while not stop.is_set():
        mark = timetables.SweepMark()  # each sweep starts from the earliest due timer
        sweeps = (partial(fire_due_timers, ctx), partial(timetables.fire_due_service_timers, ctx, mark=mark),
                  partial(quote_validity.fire_due_quote_timers, ctx),
                  partial(operational_contract_dates.fire_due_operational_contract_timers, ctx),
                  partial(link_dates.fire_due_link_timers, ctx),
                  partial(renewal_deadlines.fire_due_renewal_timers, ctx),
                  partial(approval_deadlines.fire_due_approval_timers, ctx),
                  partial(signature_dates.fire_due_signature_timers, ctx),
                  partial(contract_starts.fire_due_start_timers, ctx),
                  partial(contract_periods.fire_due_period_timers, ctx),
                  partial(obligation_dates.fire_due_obligation_timers, ctx))
        # Each kind of timer on its own, so a failing sweep of one does not hold up the other.
        for fire in sweeps:
            try:
                while await fire() and not stop.is_set():
                    pass
            except Exception as exc:
                log.warning("scheduler.sweep_failed", sweep=fire.func.__name__, error=repr(exc))
        try:
            await asyncio.wait_for(stop.wait(), tick)
        except TimeoutError:
            pass


async def get_schedule(uow: UnitOfWork, contract_id: UUID) -> ContractSchedule:
    async with uow:
        schedule = await uow.require(ContractSchedule, str(contract_id), "schedule")
        return schedule
