"""Use cases of quote validity timers: keep them in step with order sync's quote events, fire what
is due, show a quote's timer.

Handlers run in the consumer's unit of work (the inbox row commits with them), so each event
changes the timer once however often it is delivered. Firing claims due timers as the other
sweeps do (claim_due_rows: locked, skipped by other replicas) and marks them fired in the
transaction that appends their QuoteValidityEnded: once, across restarts and replicas.
"""

from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.quotes import QuoteApproved, QuoteDrafted, QuoteExpired, QuoteRejected, QuoteRevised
from services.lifecycle_scheduler.adapters import quote_timers
from services.lifecycle_scheduler.domain.quote_validity import QuoteValidity, validity_end

ACTOR = "lifecycle_scheduler"


async def _terms_set(uow: UnitOfWork, envelope: Envelope) -> None:
    """Drafted or revised: the timer is set for the (new) valid-until date."""
    e: QuoteDrafted | QuoteRevised = envelope.event
    due_at = validity_end(e.valid_until, e.time_zone)
    if due_at is None:
        await quote_timers.drop_unfired(uow.conn, e.quote_id)
    else:
        await quote_timers.set_timer(uow.conn, e.quote_id, e.valid_until, e.time_zone, due_at)


async def _quote_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    await quote_timers.drop_unfired(uow.conn, envelope.event.quote_id)


HANDLERS: HandlerTable = {
    QuoteDrafted: _terms_set,
    QuoteRevised: _terms_set,
    QuoteApproved: _quote_ended,
    QuoteRejected: _quote_ended,
    QuoteExpired: _quote_ended,
}


async def fire_due_quote_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due timers in one transaction; returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await quote_timers.claim_due(uow.conn, now, batch_size)
        for timer in due:
            validity = await uow.get(QuoteValidity, str(timer.quote_id)) or QuoteValidity.for_quote(timer.quote_id)
            uow.add(validity)
            validity.end(timer.valid_until, timer.time_zone)
        await quote_timers.mark_fired(uow.conn, [timer.quote_id for timer in due], now)
        await uow.commit()
        return len(due)


async def get_timer(uow: UnitOfWork, quote_id: UUID):
    """The quote's timer, fired or not; NotFound when there is none (unknown quote, or one that
    was approved, rejected or expired before its validity ended)."""
    async with uow:
        timer = await quote_timers.timer_of(uow.conn, quote_id)
        if timer is None:
            raise NotFound("quote_timer", quote_id)
        return timer
