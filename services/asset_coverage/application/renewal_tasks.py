"""Use cases of renewal tasks: open a period's task at its first renewal deadline (the scheduler's
RenewalDeadlineReached) and record the later ones, supersede open tasks when a contract's end date
moves or the contract ends, complete a task, read tasks.

Handlers run in the consumer's unit of work (the inbox row commits with them), so a redelivered
deadline changes nothing; the query table follows the task in the same transaction."""

import datetime as dt
from uuid import UUID

from shared.backbone.auth import Principal
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.coverage import OperationalContractCanceled, OperationalContractExpired, VendorContractRevised
from shared.events.envelope import Envelope
from shared.events.renewal_deadlines import RenewalDeadlineReached
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.renewal_task import RenewalTask, TaskState


async def _save(uow: UnitOfWork) -> None:
    for aggregate in uow.changed():
        if isinstance(aggregate, RenewalTask):
            await uow.views.renewal_tasks.save_task(aggregate)


def _title(contract: OperationalContract | None, contract_id: UUID, end_date: dt.date) -> str:
    name = contract and (contract.name or contract.number)
    return f"Renew {name or f'contract {contract_id}'} (ends {end_date.isoformat()})"


async def deadline_reached(uow: UnitOfWork, envelope: Envelope) -> None:
    """The period's first deadline opens its task, assigned to the contract's owners as they are
    now; a later one is recorded on it (each once)."""
    e: RenewalDeadlineReached = envelope.event
    task = await uow.get(RenewalTask, str(e.task_id))
    if task is None:
        contract = await uow.get(OperationalContract, str(e.contract_id))
        owners = list(contract.operational.owners) if contract else []
        task = RenewalTask.open(e.contract_id, e.end_date, e.days_before, _title(contract, e.contract_id, e.end_date),
                                owners)
        uow.add(task)
    else:
        task.reach_deadline(e.days_before)
    await _save(uow)


async def _supersede_open(uow: UnitOfWork, contract_id: UUID, reason: str,
                          keep_end_date: dt.date | None = None) -> None:
    for row in await uow.views.renewal_tasks.tasks(state=TaskState.OPEN.value, contract_id=contract_id, limit=500):
        if row["end_date"] != keep_end_date:
            task = await uow.get(RenewalTask, str(row["task_id"]))
            task.supersede(reason)
    await _save(uow)


async def contract_revised(uow: UnitOfWork, envelope: Envelope) -> None:
    e: VendorContractRevised = envelope.event
    if "end_date" in e.changed:
        await _supersede_open(uow, e.contract_id, "end_date_moved", keep_end_date=e.terms.end_date)


async def contract_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    await _supersede_open(uow, envelope.event.contract_id, "contract_ended")


HANDLERS: HandlerTable = {
    RenewalDeadlineReached: deadline_reached,
    VendorContractRevised: contract_revised,
    OperationalContractExpired: contract_ended,
    OperationalContractCanceled: contract_ended,
}


class NotAssignee(Exception):
    """The caller is neither an asset manager nor an assignee (the API answers 403)."""

    rule = rules.RENEWAL_TASK_NOT_ASSIGNEE


async def complete(uow: UnitOfWork, task_id: UUID, principal: Principal, note: str | None) -> RenewalTask:
    """By an asset manager or an assignee; completing a completed task again changes nothing."""
    async with uow:
        task = await uow.require(RenewalTask, str(task_id), "renewal_task")
        if not task.may_be_completed_by(principal.subject, principal.roles):
            raise NotAssignee(task_id)
        task.complete(principal.subject, note)
        await _save(uow)
        await uow.commit()
        return task


async def get_task(uow: UnitOfWork, task_id: UUID) -> RenewalTask:
    async with uow:
        return await uow.require(RenewalTask, str(task_id), "renewal_task")


async def list_tasks(uow: UnitOfWork, **filters) -> list[dict]:
    async with uow:
        return await uow.views.renewal_tasks.tasks(**filters)
