"""Use cases of link-date timers: kept in step with asset_coverage's link events (AssetLinked,
AssetLinkRevised set them, AssetUnlinked drops them), fired once as AssetLinkDateReached.

A date already begun when the link event was recorded gets no timer: asset_coverage evaluated the
asset's coverage for its today in that same transaction."""

from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.coverage import AssetLinked, AssetLinkRevised, AssetUnlinked
from shared.events.envelope import Envelope
from shared.events.link_dates import link_id
from services.lifecycle_scheduler.adapters import link_timers
from services.lifecycle_scheduler.domain.link_dates import LinkDates, due_at, first_day_of

ACTOR = "lifecycle_scheduler"


async def _dates_set(uow: UnitOfWork, envelope: Envelope) -> None:
    e: AssetLinked | AssetLinkRevised = envelope.event
    link = link_id(e.contract_id, e.asset_id)
    for which, date in (("start", e.effective_from), ("end", e.effective_to)):
        on = first_day_of(which, date)
        if on is None or due_at(on) <= envelope.time:
            await link_timers.drop_unfired(uow.conn, link, which)
        else:
            await link_timers.set_timer(uow.conn, link, which, e.contract_id, e.asset_id, on, due_at(on))


async def _unlinked(uow: UnitOfWork, envelope: Envelope) -> None:
    e: AssetUnlinked = envelope.event
    await link_timers.drop_unfired(uow.conn, link_id(e.contract_id, e.asset_id))


HANDLERS: HandlerTable = {AssetLinked: _dates_set, AssetLinkRevised: _dates_set, AssetUnlinked: _unlinked}


async def fire_due_link_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due link timers in one transaction; returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await link_timers.claim_due(uow.conn, now, batch_size)
        for timer in due:
            dates = await uow.get(LinkDates, str(timer.link_id)) or LinkDates(str(timer.link_id))
            uow.add(dates)
            dates.reach(UUID(str(timer.contract_id)), timer.asset_id, timer.which, timer.first_day)
        await link_timers.mark_fired(uow.conn, due, now)
        await uow.commit()
        return len(due)
