"""Use cases of contract start timers: ContractExecuted sets the timer at the start of the start
date in the contract's zone (one already past fires on the next sweep, so at once); firing appends
ContractStartReached on the contract's start stream, once per contract, claimed as the other
sweeps do (locked, skipped by other replicas) and marked fired in the same transaction."""

from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.signature import ContractExecuted
from services.lifecycle_scheduler.adapters import start_timers
from services.lifecycle_scheduler.domain.contract_start import ContractStart, start_instant

ACTOR = "lifecycle_scheduler"


async def _executed(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractExecuted = envelope.event
    await start_timers.set_timer(uow.conn, e.contract_id, e.envelope_id, e.start_date, e.time_zone,
                                 start_instant(e.start_date, e.time_zone))


HANDLERS: HandlerTable = {ContractExecuted: _executed}


async def fire_due_start_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due start timers in one transaction; returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await start_timers.claim_due(uow.conn, now, batch_size)
        await uow.prefetch([ContractStart.stream_id(t.contract_id) for t in due])  # one read for the batch
        for timer in due:
            contract_id = UUID(str(timer.contract_id))
            start = await uow.get(ContractStart, ContractStart.stream_id(contract_id)) \
                or ContractStart.for_contract(contract_id)
            uow.add(start)
            start.reach(timer.start_date, timer.time_zone)
        await start_timers.mark_fired(uow.conn, due, now)
        await uow.commit()
        return len(due)


async def get_timer(uow: UnitOfWork, contract_id: UUID):
    """The contract's start timer, fired or not; NotFound when there is none (not executed)."""
    async with uow:
        timer = await start_timers.timer_of(uow.conn, contract_id)
        if timer is None:
            raise NotFound("contract_start_timer", contract_id)
        return timer
