"""The send loop of signing mail and the scheduler's signature dates.

Mails are rows of signature_mail written with the link they carry (application/signing.py); the
loop claims unsent rows (FOR UPDATE SKIP LOCKED: another replica skips them), sends each and marks
it sent, erasing the body (the link is a credential). A crash between sending and committing sends
that mail again (the Message-ID is the row's: receivers can drop the repeat); none is lost."""

import asyncio

from shared.backbone.app import ServiceContext
from shared.backbone.logging import get_logger
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.signature_dates import SignatureDeadlineReached, SignatureReminderDue
from services.clm.adapters.signature import tables
from services.clm.adapters.signature.mail import send_mail
from services.clm.application import signing
from services.clm.application.contract_requests import save_requests
from services.clm.application.signature_settings import signature_settings

log = get_logger(__name__)


async def send_due_mail(ctx: ServiceContext) -> int:
    server = signature_settings().smtp()
    async with ctx.engine.begin() as conn:
        rows = await tables.claim_mail(conn)
        for row in rows:
            try:
                await send_mail(server, mail_id=row.mail_id, address=row.address, subject=row.subject, body=row.body)
            except Exception as exc:  # refused or unreachable: kept, tried again next tick
                log.warning("signature.mail_failed", mail_id=str(row.mail_id), error=repr(exc))
                await tables.mark_failed(conn, row.mail_id, repr(exc))
            else:
                await tables.mark_sent(conn, row.mail_id, ctx.clock.now())
    return len(rows)


async def run_signing_mail(ctx: ServiceContext, stop: asyncio.Event) -> None:
    signature_settings.cache_clear()
    tick = signature_settings().signing_mail_tick_seconds
    while not stop.is_set():
        try:
            await send_due_mail(ctx)
        except Exception as exc:
            log.warning("signature.mail_sweep_failed", error=repr(exc))
        try:
            await asyncio.wait_for(stop.wait(), tick)
        except TimeoutError:
            pass


async def on_reminder_due(uow: UnitOfWork, envelope: Envelope) -> None:
    due: SignatureReminderDue = envelope.event
    await signing.remind(uow, due.contract_id, due.envelope_id, due.signer_id, uow.clock.now())
    await save_requests(uow)


async def on_deadline_reached(uow: UnitOfWork, envelope: Envelope) -> None:
    reached: SignatureDeadlineReached = envelope.event
    await signing.expire(uow, reached.contract_id, reached.envelope_id, uow.clock.now())
    await save_requests(uow)
