"""Use cases of contract periods: follow clm's renewal terms, renewals, notices and
acknowledgements (and the activation and expiry), keep the current period's timers, fire them.

Each handler locks the contract's state row first, so the handlers of one contract (on this
consumer and schedule_expiry's) see each other's changes whatever order the events come in; then
the contract's timer rows, then its streams (the sweep's order: timers, then streams). A
contract with renewal terms has no expiry timer of its own: the period end decides, in one
transaction, ContractPeriodEnded (it renews tacitly: clm answers ContractRenewed and the timers
move to the new period) or ContractExpired on its ContractSchedule, as before phase 7.

The sweep claims due timers (locked, skipped by other replicas), marks them fired in the
transaction that appends their events (once across restarts and replicas), and touches no other
row of the contract: a handler holding the state row may be waiting for the claimed ones."""

import datetime as dt
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.app import ServiceContext
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired
from shared.events.renewal_terms import (
    ContractPeriod, ContractRenewed, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet,
    TerminationNoticeGiven,
)
from services.lifecycle_scheduler.adapters import period_timers, timers
from services.lifecycle_scheduler.domain.contract_periods import (
    PERIOD_END, ContractPeriods, PeriodState, at_period_end, planned_timers, to_announce,
)
from services.lifecycle_scheduler.domain.schedule import ContractSchedule

ACTOR = "lifecycle_scheduler"
EXPIRY = "expiry"  # scheduling's timer kind of the legal contract's expiry


def _period_state(row) -> PeriodState | None:
    """None for a contract without renewal terms (or no row)."""
    if row is None or row.terms is None or row.period is None:
        return None
    terms = RenewalTerms.model_validate(row.terms)
    return PeriodState(renewal=terms.renewal, max_renewals=terms.max_renewals, renewals=row.renewals,
                       period=ContractPeriod.model_validate(row.period), notice_period=row.notice_period,
                       acknowledged=frozenset((p, a) for p, a in row.acknowledged))


async def period_states(conn: AsyncConnection, contract_ids: list[UUID]) -> dict[UUID, PeriodState]:
    """What is known of these contracts' periods, for those with renewal terms that have not ended
    (read without locking: for the service contract sweep's renewal hold)."""
    rows = await period_timers.states_of(conn, contract_ids)
    return {row.contract_id: state for row in rows if not row.expired and (state := _period_state(row)) is not None}


async def governed_period(conn: AsyncConnection, contract_id: UUID) -> ContractPeriod | None:
    """For schedule_expiry (ContractActivated): the current period when the contract has renewal
    terms, so its end decides and no expiry timer is set; None: expire at the end date as before."""
    state = _period_state(await period_timers.lock_state(conn, contract_id))
    return state.period if state else None


async def _replan(uow: UnitOfWork, contract_id: UUID) -> None:
    """The current period's timers once the contract is in force with terms; none otherwise."""
    row = await period_timers.state_of(uow.conn, contract_id)
    state = _period_state(row)
    if state is None or not row.activated or row.expired:
        await period_timers.drop_unfired(uow.conn, contract_id)
        return
    terms = RenewalTerms.model_validate(row.terms)
    await period_timers.replan(uow.conn, contract_id, row.time_zone,
                               planned_timers(state, row.time_zone, terms.reminder_offsets_days))


async def _schedule_end(uow: UnitOfWork, contract_id: UUID, end_date: dt.date, time_zone: str) -> ContractSchedule:
    """The legal contract's schedule follows the period's end (ExpiryScheduled), without a timer."""
    schedule = await uow.get(ContractSchedule, str(contract_id)) or ContractSchedule.for_contract(contract_id)
    uow.add(schedule)
    schedule.schedule_expiry(end_date, time_zone)
    return schedule


async def _terms_set(uow: UnitOfWork, envelope: Envelope) -> None:
    e: RenewalTermsSet = envelope.event
    row = await period_timers.lock_state(uow.conn, e.contract_id)
    schedule = await uow.get(ContractSchedule, str(e.contract_id))
    expired = row.expired or (schedule is not None and schedule.expired)
    terms = e.terms
    if e.origin == "executed_terms" and terms.renewal == "express":
        # Nobody set terms and nothing renews: the end is announced to operations' owners by their
        # renewal tasks already; reminding the contract manager of every such contract is noise.
        terms = terms.model_copy(update={"reminder_offsets_days": []})
    await period_timers.save_state(uow.conn, e.contract_id, terms=terms.model_dump(mode="json"),
                                   period=e.period.model_dump(mode="json"), time_zone=e.time_zone, expired=expired)
    # The period end decides from now on: an expiry timer set on activation goes.
    await timers.drop_unfired(uow.conn, e.contract_id, EXPIRY)
    await _replan(uow, e.contract_id)
    if row.activated and not expired:
        await _schedule_end(uow, e.contract_id, e.period.end_date, e.time_zone)


async def _activated(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractActivated = envelope.event
    row = await period_timers.lock_state(uow.conn, e.contract_id)
    await period_timers.save_state(uow.conn, e.contract_id, activated=True, time_zone=row.time_zone or e.time_zone)
    await _replan(uow, e.contract_id)


async def _renewed(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractRenewed = envelope.event
    row = await period_timers.lock_state(uow.conn, e.contract_id)
    current = _period_state(row)
    if current is None or row.expired or e.period.number <= current.period.number:
        return  # no terms known, ended, or this renewal is known already
    await period_timers.save_state(uow.conn, e.contract_id, period=e.period.model_dump(mode="json"),
                                   renewals=e.renewals)
    await _replan(uow, e.contract_id)
    await _schedule_end(uow, e.contract_id, e.period.end_date, row.time_zone)


async def _notice_given(uow: UnitOfWork, envelope: Envelope) -> None:
    """No more reminders; the period end expires the contract. When the period end was announced
    already (a zero notice period) and no renewal followed, the contract expires now."""
    e: TerminationNoticeGiven = envelope.event
    row = await period_timers.lock_state(uow.conn, e.contract_id)
    await period_timers.save_state(uow.conn, e.contract_id, notice_period=e.period_number)
    await _replan(uow, e.contract_id)  # waits for a sweep holding this contract's timers: it has committed after
    state = _period_state(row)
    if state is None or row.expired or state.period.number != e.period_number:
        return
    periods = await uow.get(ContractPeriods, ContractPeriods.stream_id(e.contract_id))
    if periods is not None and e.period_number in periods.ended:
        schedule = await _schedule_end(uow, e.contract_id, state.period.end_date, row.time_zone)
        schedule.expire_if_due(uow.clock.now())
        await period_timers.save_state(uow.conn, e.contract_id, expired=True)
        await period_timers.drop_unfired(uow.conn, e.contract_id)


async def _acknowledged(uow: UnitOfWork, envelope: Envelope) -> None:
    e: RenewalReminderAcknowledged = envelope.event
    row = await period_timers.lock_state(uow.conn, e.contract_id)
    acknowledged = {(p, a) for p, a in row.acknowledged} | {(e.period_number, e.anchor)}
    await period_timers.save_state(uow.conn, e.contract_id, acknowledged=sorted(list(a) for a in acknowledged))
    await _replan(uow, e.contract_id)


async def _expired(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractExpired = envelope.event
    await period_timers.lock_state(uow.conn, e.contract_id)
    await period_timers.save_state(uow.conn, e.contract_id, expired=True)
    await period_timers.drop_unfired(uow.conn, e.contract_id)


HANDLERS: HandlerTable = {
    RenewalTermsSet: _terms_set,
    ContractActivated: _activated,
    ContractRenewed: _renewed,
    TerminationNoticeGiven: _notice_given,
    RenewalReminderAcknowledged: _acknowledged,
    ContractExpired: _expired,
}


async def _fire(uow: UnitOfWork, timer, now: dt.datetime, announced: dict) -> bool:
    """Fires one claimed timer; False when it is skipped (passed while a later one was due)."""
    row = await period_timers.state_of(uow.conn, timer.contract_id)
    state = _period_state(row)
    if state is None or row.expired or state.period.number != timer.period_number:
        return True  # a period that is gone: nothing to announce
    periods = (await uow.get(ContractPeriods, ContractPeriods.stream_id(timer.contract_id))
               or ContractPeriods.for_contract(timer.contract_id))
    uow.add(periods)
    if timer.anchor == PERIOD_END:
        if at_period_end(state) == "renew":
            periods.end_period(state.period, row.time_zone)
        else:
            schedule = await _schedule_end(uow, timer.contract_id, state.period.end_date, row.time_zone)
            schedule.expire_if_due(now)
        return True
    key = (timer.contract_id, timer.period_number, timer.anchor)
    if key not in announced:
        announced[key] = to_announce(await period_timers.due_of_anchor(uow.conn, *key, now))
    if timer.days_before != announced[key]:
        return False
    owners = RenewalTerms.model_validate(row.terms).owners
    periods.remind(timer.period_number, timer.anchor, timer.anchor_date, timer.days_before, owners, timer.due_at)
    return True


async def fire_due_period_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due timers in one transaction; returns how many it claimed."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await period_timers.claim_due(uow.conn, now, batch_size)
        announced: dict = {}
        for timer in due:
            fired = await _fire(uow, timer, now, announced)
            await period_timers.mark_fired(uow.conn, timer, now, skipped=not fired)
        await uow.commit()
        return len(due)


async def timers_of(uow: UnitOfWork, contract_id: UUID) -> list:
    async with uow:
        return await period_timers.timers_of(uow.conn, contract_id)
