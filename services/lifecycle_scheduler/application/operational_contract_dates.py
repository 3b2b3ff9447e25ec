"""Use cases of vendor contracts' date timers: keep them in step with asset_coverage's contract
events, fire what is due, show a contract's timers.

Handlers run in the consumer's unit of work (the inbox row commits with them), so each event
changes the timers once however often it is delivered. Firing claims due timers as the other
sweeps do (claim_due_rows: locked, skipped by other replicas) and marks them fired in the
transaction that appends their announcements: once, across restarts and replicas. A contract
registered past its start (or end) has timers due already: the first sweep fires them, start first.
"""

from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.coverage import (
    OperationalContractCanceled, OperationalContractExpired, VendorContractRegistered, VendorContractRevised,
)
from shared.events.envelope import Envelope
from services.lifecycle_scheduler.adapters import operational_contract_timers as timers
from services.lifecycle_scheduler.domain.operational_contract_dates import END, START, OperationalContractDates, due_instant

ACTOR = "lifecycle_scheduler"


async def _terms_set(uow: UnitOfWork, envelope: Envelope) -> None:
    """Registered or revised: the start and end timers are set for the (new) dates."""
    e: VendorContractRegistered | VendorContractRevised = envelope.event
    t = e.terms
    for kind, date in ((START, t.start_date), (END, t.end_date)):
        await timers.set_timer(uow.conn, e.contract_id, kind, date, t.time_zone, due_instant(kind, date, t.time_zone))


async def _contract_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    await timers.drop_unfired(uow.conn, envelope.event.contract_id)


HANDLERS: HandlerTable = {
    VendorContractRegistered: _terms_set,
    VendorContractRevised: _terms_set,
    OperationalContractCanceled: _contract_ended,
    OperationalContractExpired: _contract_ended,
}


async def fire_due_operational_contract_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due timers in one transaction (in due order); returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await timers.claim_due(uow.conn, now, batch_size)
        for timer in due:
            dates = (await uow.get(OperationalContractDates, str(timer.contract_id))
                     or OperationalContractDates.for_contract(timer.contract_id))
            uow.add(dates)
            dates.reach(timer.kind, timer.date, timer.time_zone)
        await timers.mark_fired(uow.conn, due, now)
        await uow.commit()
        return len(due)


async def get_timers(uow: UnitOfWork, contract_id: UUID) -> list:
    """The contract's timers, fired or not; NotFound when there are none (unknown to the scheduler,
    or canceled or expired before any fired)."""
    async with uow:
        rows = await timers.timers_of(uow.conn, contract_id)
        if not rows:
            raise NotFound("operational_contract_timer", contract_id)
        return rows
