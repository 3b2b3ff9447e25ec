"""Use cases of obligation timers: kept in step with clm's obligation events, fired once each.

ObligationRecorded keeps the obligation's terms and sets the due timer of its first timed
occurrence (domain/obligation_dates.py, first_timed); ObligationOccurrenceCompleted drops that
occurrence's unfired timers (and, when its due timer was among them, sets the next
occurrence's); ObligationCanceled drops them all. Firing a due timer appends ObligationDue, sets
the occurrence's first overdue timer and the next occurrence's due timer; firing an overdue timer
appends the latest ObligationOverdue that fell due and sets the one after it. Rows are claimed as
the other sweeps do (locked, skipped by other replicas) and marked fired in the transaction of
their events."""

from functools import cache
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.obligations import ObligationCanceled, ObligationOccurrenceCompleted, ObligationRecorded
from services.lifecycle_scheduler.adapters import obligation_timers as store
from services.lifecycle_scheduler.domain.obligation_dates import (
    ObligationDates, due_instant, first_timed, latest_overdue_number, next_occurrence, overdue_instant,
)

ACTOR = "lifecycle_scheduler"


class ObligationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    obligation_overdue_repeat_days: int = 3  # days between overdue notices
    obligation_escalate_after: int | None = 2  # from this overdue notice on, the contract manager too; empty: never


@cache
def settings() -> ObligationSettings:
    """Read from the environment once per service start (run_timers clears it)."""
    return ObligationSettings()


async def _set_due(uow: UnitOfWork, terms, due_on) -> None:
    if due_on is not None:
        await store.add_timer(uow.conn, terms.obligation_id, terms.contract_id, due_on, store.DUE, 0,
                              due_instant(due_on, terms.time_zone))


def _after(terms, due_on, completed):
    return next_occurrence(terms.due_date, store.recurrence_of(terms), due_on, completed)


async def _recorded(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationRecorded = envelope.event
    if not await store.save_terms(uow.conn, e):
        return
    terms = await store.terms_of(uow.conn, e.obligation_id)
    completed = await store.completed_of(uow.conn, e.obligation_id)
    recorded_on = e.at.astimezone(ZoneInfo(e.time_zone)).date()
    await _set_due(uow, terms, first_timed(e.due_date, e.recurrence, recorded_on, completed))


async def _completed(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationOccurrenceCompleted = envelope.event
    terms = await store.terms_of(uow.conn, e.obligation_id)
    if await store.complete(uow.conn, e.obligation_id, e.due_on) and terms is not None and terms.canceled_at is None:
        await _set_due(uow, terms, _after(terms, e.due_on, await store.completed_of(uow.conn, e.obligation_id)))


async def _canceled(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationCanceled = envelope.event
    await store.cancel(uow.conn, e.obligation_id, e.at)


HANDLERS: HandlerTable = {
    ObligationRecorded: _recorded,
    ObligationOccurrenceCompleted: _completed,
    ObligationCanceled: _canceled,
}


async def _dates_of(uow: UnitOfWork, obligation_id) -> ObligationDates:
    obligation_id = UUID(str(obligation_id))
    dates = await uow.get(ObligationDates, ObligationDates.stream_id(obligation_id)) \
        or ObligationDates.for_obligation(obligation_id)
    uow.add(dates)
    return dates


async def fire_due_obligation_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due and overdue timers in one transaction; returns how many fired."""
    config = settings()
    repeat = config.obligation_overdue_repeat_days
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await store.claim_due(uow.conn, now, batch_size)
        all_terms = await store.terms_of_many(uow.conn, {t.obligation_id for t in due})
        await uow.prefetch([ObligationDates.stream_id(t.obligation_id) for t in due])
        for timer in due:
            terms = all_terms.get(timer.obligation_id)
            if terms is None or terms.canceled_at is not None:
                continue
            completed = await store.completed_of(uow.conn, terms.obligation_id)
            if timer.due_on in completed:  # a completion racing this sweep: its occurrence says nothing more
                if timer.mark == store.DUE:
                    await _set_due(uow, terms, _after(terms, timer.due_on, completed))
                continue
            dates = await _dates_of(uow, timer.obligation_id)
            contract_id = UUID(str(terms.contract_id))
            if timer.mark == store.DUE:
                dates.announce_due(contract_id, timer.due_on, kind=terms.kind, description=terms.description,
                                   owners=list(terms.owners), reached_at=timer.due_at)
                await store.add_timer(uow.conn, terms.obligation_id, terms.contract_id, timer.due_on, store.OVERDUE, 1,
                                      overdue_instant(timer.due_on, terms.time_zone, 1, repeat))
                await _set_due(uow, terms, _after(terms, timer.due_on, completed))
            else:
                number = latest_overdue_number(timer.due_on, terms.time_zone, timer.number, repeat, now)
                dates.announce_overdue(contract_id, timer.due_on, number, owners=list(terms.owners),
                                       escalate_after=config.obligation_escalate_after,
                                       reached_at=overdue_instant(timer.due_on, terms.time_zone, number, repeat))
                await store.add_timer(uow.conn, terms.obligation_id, terms.contract_id, timer.due_on, store.OVERDUE,
                                      number + 1, overdue_instant(timer.due_on, terms.time_zone, number + 1, repeat))
        await store.mark_fired(uow.conn, due, now)
        await uow.commit()
        return len(due)


async def get_timers(uow: UnitOfWork, obligation_id: UUID) -> list:
    """The obligation's timers, fired or not; NotFound when the scheduler does not know it."""
    async with uow:
        if await store.terms_of(uow.conn, obligation_id) is None:
            raise NotFound("obligation_timers", obligation_id)
        return await store.timers_of(uow.conn, obligation_id)
