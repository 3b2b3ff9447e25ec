"""Contract reminders through the notification channel: a ContractReminderDue is an occurrence
of the series `contract_reminder:<contract>/<period>/<anchor>` to the terms' owners, repeating every
NOTIFY_REPEAT_DAYS and escalating to NOTIFY_CONTRACT_ESCALATE_TO (the accountable contract manager)
after NOTIFY_ESCALATE_AFTER unanswered occurrences. RenewalReminderAcknowledged stops its anchor's
series; ContractRenewed and TerminationNoticeGiven stop the period's; ContractExpired the contract's.

The reminders come on the scheduler's topic and the stops on clm's (and the schedules'), so a stop
may be taken before the reminder it stops: a stop leaves a stopped series behind, even one that
had no occurrence yet, and request_notification adds nothing to a stopped series."""

from uuid import UUID

import sqlalchemy as sa
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contract_periods import ContractReminderDue
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired
from shared.events.renewal_terms import ContractRenewed, RenewalReminderAcknowledged, TerminationNoticeGiven
from services.lifecycle_scheduler.adapters import deliveries as store
from services.lifecycle_scheduler.application import notifying
from services.lifecycle_scheduler.domain.contract_periods import ANCHORS
from services.lifecycle_scheduler.domain.notifications import NotificationRequest

PREFIX = "contract_reminder"
WHAT = {"cancel_by": "cancel-by date", "end": "end date"}


class ContractReminderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    notify_contract_escalate_to: str = "role:contract_manager"

    @property
    def escalate_to(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.notify_contract_escalate_to.split(",") if r.strip())


def settings() -> ContractReminderSettings:
    return ContractReminderSettings()  # read per reminder: as this start's environment says


def series_key(contract_id: UUID, period_number: int, anchor: str) -> str:
    return f"{PREFIX}:{contract_id}/{period_number}/{anchor}"


def ended_key(contract_id: UUID) -> str:
    """A stopped series that marks the contract ended: no reminder of it starts a series after."""
    return f"{PREFIX}:{contract_id}/ended"


def request_of(e: ContractReminderDue, repeat_days: int, escalate_after: int | None,
               escalate_to: tuple[str, ...]) -> NotificationRequest:
    key = series_key(e.contract_id, e.period_number, e.anchor)
    when = "today" if e.days_before == 0 else f"in {e.days_before} days"
    what = WHAT[e.anchor]
    todo = ("Decide now whether to renew: a termination notice must be given by the notice deadline."
            if e.anchor == "cancel_by" else "The period ends on this date.")
    # The subject names the date, not a count of days: the repeats of this occurrence carry it too.
    return NotificationRequest(
        series_key=key, occurrence_key=f"{key}/{e.days_before}", recipients=tuple(e.recipients),
        subject=f"Contract {e.contract_id}: {what} {e.anchor_date} (period {e.period_number})",
        body=(f"The contract's {what} of period {e.period_number} is {e.anchor_date} ({when} as of this notice).\n"
              f"{todo}\n"
              f"Contract: /api/v1/contracts/{e.contract_id}\n"
              f"Once in hand, acknowledge them: POST /api/v1/contracts/{e.contract_id}/renewal-reminders/acknowledge "
              f'{{"period_number": {e.period_number}, "anchor": "{e.anchor}"}} (clm); '
              f"until then this reminder repeats every {repeat_days} days.\n"),
        repeat_days=repeat_days, escalate_after=escalate_after, escalate_to=escalate_to,
        data={"kind": "contract_reminder", "contract_id": str(e.contract_id), "period_number": e.period_number,
              "anchor": e.anchor, "anchor_date": e.anchor_date.isoformat(), "days_before": e.days_before})


async def stop(conn: AsyncConnection, key: str, now) -> None:
    """Stops the series, leaving a stopped one behind when it had none yet."""
    await conn.execute(insert(store.notification_series).values(
        series_key=key, subject="", body="", recipients=[], escalate_to=[], data={}, occurrences=0, next_at=None,
        stopped_at=now).on_conflict_do_nothing())
    await notifying.stop_series(conn, key, now)


async def _due(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractReminderDue = envelope.event
    ended = await store.series_of(uow.conn, ended_key(e.contract_id))
    if ended is not None:
        return
    config = notifying.settings()
    request = request_of(e, config.notify_repeat_days, config.notify_escalate_after, settings().escalate_to)
    await notifying.request_notification(uow.conn, request, uow.clock.now())


async def _stop_period(uow: UnitOfWork, contract_id: UUID, period_number: int) -> None:
    for anchor in ANCHORS:
        await stop(uow.conn, series_key(contract_id, period_number, anchor), uow.clock.now())


async def _acknowledged(uow: UnitOfWork, envelope: Envelope) -> None:
    e: RenewalReminderAcknowledged = envelope.event
    await stop(uow.conn, series_key(e.contract_id, e.period_number, e.anchor), uow.clock.now())


async def _renewed(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractRenewed = envelope.event
    await _stop_period(uow, e.contract_id, e.period.number - 1)


async def _notice_given(uow: UnitOfWork, envelope: Envelope) -> None:
    e: TerminationNoticeGiven = envelope.event
    await _stop_period(uow, e.contract_id, e.period_number)


async def _expired(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ContractExpired = envelope.event
    now = uow.clock.now()
    s = store.notification_series.c
    open_keys = (await uow.conn.execute(sa.select(s.series_key).where(
        s.series_key.like(f"{PREFIX}:{e.contract_id}/%"), s.stopped_at.is_(None)))).scalars()
    for key in list(open_keys) + [ended_key(e.contract_id)]:
        await stop(uow.conn, key, now)


HANDLERS: HandlerTable = {
    ContractReminderDue: _due,
    RenewalReminderAcknowledged: _acknowledged,
    ContractRenewed: _renewed,
    TerminationNoticeGiven: _notice_given,
    ContractExpired: _expired,
}
