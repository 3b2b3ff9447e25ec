"""Obligations' notifications through the channel (docs/operations/notifications.md): an
occurrence's series is `obligation:<obligation_id>/<due_on>`. ObligationDue is its first
occurrence (`.../due`) to the owners; each ObligationOverdue adds `.../overdue/<n>` to its
recipients (the accountable role once escalated). The series itself does not repeat
(repeat_days=0): the scheduler's overdue timer is the repeat. A completion stops the occurrence's
series; a cancellation every series of the obligation."""

import sqlalchemy as sa

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.obligation_dates import ObligationDue, ObligationOverdue
from shared.events.obligations import ObligationCanceled, ObligationOccurrenceCompleted
from services.lifecycle_scheduler.adapters import deliveries as store
from services.lifecycle_scheduler.application import notifying
from services.lifecycle_scheduler.domain.notifications import NotificationRequest


def series_key(obligation_id, due_on) -> str:
    return f"obligation:{obligation_id}/{due_on}"


def _link(obligation_id, due_on) -> str:
    return (f"Obligation: /api/v1/obligations/{obligation_id}\n"
            f"Complete it (POST /api/v1/obligations/{obligation_id}/occurrences/{due_on}/completion, "
            f"a note and optionally an evidence file) to stop these notices.\n")


async def _due(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationDue = envelope.event
    key = series_key(e.obligation_id, e.due_on)
    data = {"kind": "obligation_due", "obligation_id": str(e.obligation_id), "contract_id": str(e.contract_id),
            "due_on": e.due_on.isoformat(), "obligation_kind": e.kind, "description": e.description}
    request = NotificationRequest(
        series_key=key, occurrence_key=f"{key}/due", recipients=tuple(e.owners),
        subject=f"Obligation due {e.due_on}: {e.description}",
        body=f"{e.description}\n\nThis {e.kind.replace('_', ' ')} obligation is due today, {e.due_on}.\n"
             + _link(e.obligation_id, e.due_on),
        repeat_days=0, data=data)
    await notifying.request_notification(uow.conn, request, uow.clock.now())


async def _overdue(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationOverdue = envelope.event
    key = series_key(e.obligation_id, e.due_on)
    series = await store.series_of(uow.conn, key)
    description = series.data.get("description", "an obligation") if series is not None else "an obligation"
    data = {"kind": "obligation_overdue", "obligation_id": str(e.obligation_id), "contract_id": str(e.contract_id),
            "due_on": e.due_on.isoformat(), "number": e.number, "escalated": e.escalated, "description": description}
    escalation = "\nEscalated to the accountable contract manager.\n" if e.escalated else ""
    request = NotificationRequest(
        series_key=key, occurrence_key=f"{key}/overdue/{e.number}", recipients=tuple(e.recipients),
        subject=f"Overdue since {e.due_on}: {description}",
        body=f"{description}\n\nThis obligation was due on {e.due_on} and is not completed "
             f"(overdue notice {e.number}).{escalation}\n" + _link(e.obligation_id, e.due_on),
        repeat_days=0, data=data)
    await notifying.request_notification(uow.conn, request, uow.clock.now())


async def _completed(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationOccurrenceCompleted = envelope.event
    await notifying.stop_series(uow.conn, series_key(e.obligation_id, e.due_on), uow.clock.now())


async def _canceled(uow: UnitOfWork, envelope: Envelope) -> None:
    e: ObligationCanceled = envelope.event
    s = store.notification_series.c
    keys = await uow.conn.execute(sa.select(s.series_key).where(
        s.series_key.startswith(f"obligation:{e.obligation_id}/"), s.stopped_at.is_(None)))
    for key in keys.scalars():
        await notifying.stop_series(uow.conn, key, uow.clock.now())


HANDLERS: HandlerTable = {
    ObligationDue: _due,
    ObligationOverdue: _overdue,
    ObligationOccurrenceCompleted: _completed,
    ObligationCanceled: _canceled,
}
