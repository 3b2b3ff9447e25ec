"""Use cases of renewal deadline timers: keep them in step with operations' contract events (a
vendor contract registered or revised, a contract from contracting opened, a contract ended), fire
what is due, show a contract's timers.

Handlers run in the consumer's unit of work, so each event changes the timers once however often
it is delivered. Firing claims due timers (claim_due_rows: locked, skipped by other replicas) and
marks them fired in the transaction that appends their RenewalDeadlineReached: once, across
restarts and replicas. Of a period's deadlines due at once only the latest is announced."""

import datetime as dt
from functools import cache
from uuid import UUID

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.backbone.app import ServiceContext
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.coverage import (
    CoverageOpened, OperationalContractCanceled, OperationalContractExpired, VendorContractRegistered,
    VendorContractRevised,
)
from shared.events.envelope import Envelope
from shared.events.renewal_tasks import renewal_task_id
from services.lifecycle_scheduler.adapters import renewal_timers
from services.lifecycle_scheduler.domain.renewal_deadlines import (
    DEFAULT_OFFSETS_DAYS, RenewalDeadlines, parse_offsets, planned_deadlines, to_announce,
)

ACTOR = "lifecycle_scheduler"


class RenewalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    renewal_task_offsets_days: str = ",".join(map(str, DEFAULT_OFFSETS_DAYS))


@cache
def offsets() -> tuple[int, ...]:
    return parse_offsets(RenewalSettings().renewal_task_offsets_days)


async def _plan(uow: UnitOfWork, contract_id: UUID, end_date: dt.date, time_zone: str) -> None:
    """The period (contract, end date) gets its deadlines; another period's unfired ones go."""
    await renewal_timers.drop_unfired(uow.conn, contract_id, except_end_date=end_date)
    await renewal_timers.plan_period(uow.conn, renewal_task_id(contract_id, end_date), contract_id, end_date,
                                     time_zone, planned_deadlines(end_date, time_zone, offsets()))


async def _vendor_contract(uow: UnitOfWork, envelope: Envelope) -> None:
    e: VendorContractRegistered | VendorContractRevised = envelope.event
    await _plan(uow, e.contract_id, e.terms.end_date, e.terms.time_zone)


async def _coverage_opened(uow: UnitOfWork, envelope: Envelope) -> None:
    e: CoverageOpened = envelope.event
    await _plan(uow, e.contract_id, e.end_date, e.time_zone or "UTC")


async def _contract_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    await renewal_timers.drop_unfired(uow.conn, envelope.event.contract_id)


HANDLERS: HandlerTable = {
    VendorContractRegistered: _vendor_contract,
    VendorContractRevised: _vendor_contract,
    CoverageOpened: _coverage_opened,
    OperationalContractExpired: _contract_ended,
    OperationalContractCanceled: _contract_ended,
}


async def fire_due_renewal_timers(ctx: ServiceContext, batch_size: int = 200) -> int:
    """Fires one batch of due timers in one transaction; returns how many it claimed."""
    now = ctx.clock.now()
    async with ctx.uow(actor=ACTOR) as uow:
        due = await renewal_timers.claim_due(uow.conn, now, batch_size)
        announced: dict[UUID, int | None] = {}
        for timer in due:
            if timer.task_id not in announced:
                announced[timer.task_id] = to_announce(await renewal_timers.due_of_task(uow.conn, timer.task_id, now))
            skipped = timer.days_before != announced[timer.task_id]
            if not skipped:
                deadlines = (await uow.get(RenewalDeadlines, str(timer.task_id))
                             or RenewalDeadlines.for_period(timer.contract_id, timer.end_date))
                uow.add(deadlines)
                deadlines.reach(timer.contract_id, timer.end_date, timer.days_before, timer.time_zone)
            await renewal_timers.mark_fired(uow.conn, timer.task_id, timer.days_before, now, skipped)
        await uow.commit()
        return len(due)


async def timers_of(uow: UnitOfWork, contract_id: UUID) -> list:
    async with uow:
        return await renewal_timers.timers_of(uow.conn, contract_id)
