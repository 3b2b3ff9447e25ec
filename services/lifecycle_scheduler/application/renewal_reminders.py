"""Renewal tasks' notifications: the first producer of the channel. A task opened or a later
deadline of it is an occurrence to its assignees, repeating every NOTIFY_REPEAT_DAYS while the
task is open and escalating to NOTIFY_ESCALATE_TO after NOTIFY_ESCALATE_AFTER unanswered
occurrences; completed or superseded stops the series. Phase 7's reminders plug in the same way:
a handler that turns its events into NotificationRequests (docs/operations/notifications.md)."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.renewal_tasks import (
    RenewalTaskCompleted, RenewalTaskDeadlineReached, RenewalTaskOpened, RenewalTaskSuperseded,
)
from services.lifecycle_scheduler.adapters import deliveries as store
from services.lifecycle_scheduler.application import notifying
from services.lifecycle_scheduler.domain.notifications import NotificationRequest


def series_key(task_id) -> str:
    return f"renewal_task:{task_id}"


def _request(task_id, days_before: int, title: str, recipients: tuple[str, ...], data: dict) -> NotificationRequest:
    config = notifying.settings()
    when = "today" if days_before == 0 else f"in {days_before} days"
    # The subject names the date, not a count of days: the repeats of this occurrence carry it too.
    return NotificationRequest(
        series_key=series_key(task_id), occurrence_key=f"{series_key(task_id)}/deadline/{days_before}",
        recipients=recipients, subject=f"Renewal due by {data['end_date']}: {title}",
        body=(f"{title}\n\nThe contract period ends on {data['end_date']} ({when} as of this notice).\n"
              f"Renewal task: /api/v1/renewal-tasks/{task_id}\n"
              f"Complete it there (POST .../complete) once renewed or decided; until then this reminder repeats "
              f"every {config.notify_repeat_days} days.\n"),
        repeat_days=config.notify_repeat_days, escalate_after=config.notify_escalate_after,
        escalate_to=config.escalate_to, data={**data, "task_id": str(task_id), "days_before": days_before})


async def _opened(uow: UnitOfWork, envelope: Envelope) -> None:
    e: RenewalTaskOpened = envelope.event
    data = {"kind": "renewal_task", "contract_id": str(e.contract_id), "end_date": e.end_date.isoformat(),
            "title": e.title}
    request = _request(e.task_id, e.days_before, e.title, tuple(e.assignees), data)
    await notifying.request_notification(uow.conn, request, uow.clock.now())


async def _deadline(uow: UnitOfWork, envelope: Envelope) -> None:
    """The series' recipients and context as the task opened them, for the new deadline."""
    e: RenewalTaskDeadlineReached = envelope.event
    series = await store.series_of(uow.conn, series_key(e.task_id))
    if series is None:  # the opening occurrence never reached us: nothing to address
        return
    request = _request(e.task_id, e.days_before, series.data["title"], tuple(series.recipients), series.data)
    await notifying.request_notification(uow.conn, request, uow.clock.now())


async def _done(uow: UnitOfWork, envelope: Envelope) -> None:
    await notifying.stop_series(uow.conn, series_key(envelope.event.task_id), uow.clock.now())


HANDLERS: HandlerTable = {
    RenewalTaskOpened: _opened,
    RenewalTaskDeadlineReached: _deadline,
    RenewalTaskCompleted: _done,
    RenewalTaskSuperseded: _done,
}
