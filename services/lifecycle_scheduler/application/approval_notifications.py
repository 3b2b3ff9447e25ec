"""Approval SLAs' notifications, through the notification channel (docs/operations/notifications.md):
the step's approvers when its warning point passes, its approvers and the contract manager when
its deadline passes, and the approvers of a new escalation level when the step reaches them. One
occurrence each (its occurrence key), no repeats: the next mark is the reminder. Approvers by role
are addressed as `role:<name>`, named approvers by their user id, reached through their
subscriptions."""

import datetime as dt
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.approvals import Approver
from services.lifecycle_scheduler.application import notifying
from services.lifecycle_scheduler.domain.notifications import ROLE_PREFIX, NotificationRequest

CONTRACT_MANAGER = f"{ROLE_PREFIX}contract_manager"


def recipients_of(approvers: list[Approver]) -> list[str]:
    return list(dict.fromkeys(f"{ROLE_PREFIX}{a.value}" if a.kind == "role" else a.value for a in approvers))


def series_key(step_id) -> str:
    return f"approval_step:{step_id}"


def _request(step_id, contract_id, level: int, due_at: dt.datetime, what: str, recipients: tuple[str, ...],
             subject: str, body: str) -> NotificationRequest:
    return NotificationRequest(
        series_key=series_key(step_id), occurrence_key=f"{series_key(step_id)}/level/{level}/{what}",
        recipients=recipients, subject=subject,
        body=(f"{body}\n\nContract: {contract_id}\nApproval step: {step_id} (level {level})\n"
              f"Deadline: {due_at.isoformat()}\nTimers: /api/v1/approval-steps/{step_id}/timers\n"),
        data={"kind": f"approval_step_{what}", "contract_id": str(contract_id), "step_id": str(step_id),
              "level": level, "due_at": due_at.isoformat()})


async def at_risk(conn: AsyncConnection, step_id: UUID, contract_id: UUID, level: int, due_at: dt.datetime,
                  recipients: list[str], now: dt.datetime) -> None:
    await notifying.request_notification(conn, _request(
        step_id, contract_id, level, due_at, "at_risk", tuple(recipients), f"Approval due by {due_at:%Y-%m-%d %H:%M} UTC",
        "An approval step waiting for you is close to its deadline. Approve or reject it in the contract."), now)


async def deadline(conn: AsyncConnection, step_id: UUID, contract_id: UUID, level: int, due_at: dt.datetime,
                   recipients: list[str], now: dt.datetime) -> None:
    await notifying.request_notification(conn, _request(
        step_id, contract_id, level, due_at, "deadline", (*recipients, CONTRACT_MANAGER), "Approval deadline passed",
        "An approval step passed its deadline without a decision; it escalates to the next level of its "
        "escalation path where it has one."), now)


async def escalated(conn: AsyncConnection, step_id: UUID, contract_id: UUID, level: int, due_at: dt.datetime,
                    recipients: list[str], now: dt.datetime) -> None:
    await notifying.request_notification(conn, _request(
        step_id, contract_id, level, due_at, "escalated", tuple(recipients), "Approval escalated to you",
        "An approval step passed its deadline and was escalated to you. Approve or reject it in the contract."), now)
