"""Use cases of signature timers: kept in step with clm's signature events, fired once each.

SignatureRequested sets the envelope's deadline timer and keeps its reminder interval;
SignerInvited starts the signer's reminders (the first `reminder_every_days` after the
invitation); SignerSigned stops that signer's; SignerDeclined, SignatureExpired,
SignatureCanceled and ContractExecuted end the envelope (every unfired timer of it goes).
SignerReminded changes nothing: the cadence counts from the invitation.
Firing a reminder appends SignatureReminderDue and adds the signer's next one while it falls
before the deadline (after downtime only the latest reminder due is sent, not each one missed);
the deadline appends SignatureDeadlineReached. Rows are claimed as the other sweeps do (locked,
skipped by other replicas) and marked fired in the transaction of their events."""

from uuid import UUID

from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.signature import (
    ContractExecuted, SignatureCanceled, SignatureExpired, SignatureRequested, SignerDeclined, SignerInvited,
    SignerSigned,
)
from services.lifecycle_scheduler.adapters import signature_timers
from services.lifecycle_scheduler.domain.signature_dates import SignatureDates, latest_number, reminder_at

ACTOR = "lifecycle_scheduler"


def _reminder_row(envelope_id, signer_id, contract_id, invited_at, every_days: int, deadline,
                  number: int) -> list[dict]:
    """The signer's reminder `number` as a timer row; none when it would fall at or past the deadline."""
    due = reminder_at(invited_at, every_days, number, deadline)
    if due is None:
        return []
    return [{"envelope_id": envelope_id, "signer_id": signer_id, "number": number, "contract_id": contract_id,
             "invited_at": invited_at, "every_days": every_days, "deadline": deadline, "due_at": due}]


async def _requested(uow: UnitOfWork, envelope: Envelope) -> None:
    e: SignatureRequested = envelope.event
    await signature_timers.set_deadline(uow.conn, e.envelope_id, e.contract_id, e.deadline, e.reminder_every_days)


async def _invited(uow: UnitOfWork, envelope: Envelope) -> None:
    e: SignerInvited = envelope.event
    env = await signature_timers.deadline_of(uow.conn, e.envelope_id)
    if env is None or env.fired_at is not None or not env.reminder_every_days:
        return  # unknown or ended envelope, its deadline passed, or no reminders asked for
    await signature_timers.add_reminders(uow.conn, _reminder_row(
        e.envelope_id, e.signer_id, e.contract_id, e.at, env.reminder_every_days, env.due_at, 1))


async def _signed(uow: UnitOfWork, envelope: Envelope) -> None:
    e: SignerSigned = envelope.event
    await signature_timers.stop_signer(uow.conn, e.envelope_id, e.signer_id)


async def _ended(uow: UnitOfWork, envelope: Envelope) -> None:
    await signature_timers.stop_envelope(uow.conn, envelope.event.envelope_id)


HANDLERS: HandlerTable = {
    SignatureRequested: _requested,
    SignerInvited: _invited,
    SignerSigned: _signed,
    SignerDeclined: _ended,
    SignatureExpired: _ended,
    SignatureCanceled: _ended,
    ContractExecuted: _ended,
}


async def _dates_of(uow: UnitOfWork, envelope_id) -> SignatureDates:
    envelope_id = UUID(str(envelope_id))
    dates = await uow.get(SignatureDates, SignatureDates.stream_id(envelope_id)) \
        or SignatureDates.for_envelope(envelope_id)
    uow.add(dates)
    return dates


async def fire_due_signature_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due reminders and deadlines in one transaction; returns how many fired."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        deadlines = await signature_timers.claim_due_deadlines(uow.conn, now, batch_size)
        reminders = await signature_timers.claim_due_reminders(uow.conn, now, batch_size)
        await uow.prefetch([SignatureDates.stream_id(t.envelope_id) for t in (*deadlines, *reminders)])
        for timer in deadlines:
            (await _dates_of(uow, timer.envelope_id)).reach_deadline(UUID(str(timer.contract_id)), timer.due_at)
        ended = {t.envelope_id for t in deadlines}  # a reminder due with its deadline is not sent: it goes
        sent = [t for t in reminders if t.envelope_id not in ended]
        following: list[dict] = []
        for timer in sent:
            number = latest_number(timer.invited_at, timer.every_days, timer.number, timer.deadline, now)
            dates = await _dates_of(uow, timer.envelope_id)
            dates.remind(UUID(str(timer.contract_id)), UUID(str(timer.signer_id)), number,
                         reminder_at(timer.invited_at, timer.every_days, number, timer.deadline))
            following += _reminder_row(timer.envelope_id, timer.signer_id, timer.contract_id, timer.invited_at,
                                       timer.every_days, timer.deadline, number + 1)
        await signature_timers.mark_deadlines_fired(uow.conn, deadlines, now)
        await signature_timers.mark_reminders_fired(uow.conn, sent, now)
        await signature_timers.stop_envelopes(uow.conn, ended)
        await signature_timers.add_reminders(uow.conn, following)
        await uow.commit()
        return len(deadlines) + len(sent)


async def get_timers(uow: UnitOfWork, envelope_id: UUID):
    """The envelope's deadline timer (None once dropped) and its reminders, fired or not; NotFound
    when the scheduler holds neither."""
    async with uow:
        deadline = await signature_timers.deadline_of(uow.conn, envelope_id)
        reminders = await signature_timers.reminders_of(uow.conn, envelope_id)
        if deadline is None and not reminders:
            raise NotFound("signature_envelope_timers", envelope_id)
        return deadline, reminders
