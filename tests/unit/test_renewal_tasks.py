"""Renewal tasks: the aggregate's rules and its use cases on the in-memory unit of work (opened at
the first deadline, later deadlines recorded once, completed by an assignee or an asset manager,
superseded when the period is gone)."""

import datetime as dt
import uuid

import pytest

from shared.backbone.auth import Principal
from shared.backbone.errors import ConflictingState
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.coverage import OperationalContractCanceled, OperationalTerms, VendorContractRevised, VendorContractTerms
from shared.events.envelope import Envelope
from shared.events.renewal_deadlines import RenewalDeadlineReached
from shared.events.renewal_tasks import (
    RenewalTaskCompleted, RenewalTaskDeadlineReached, RenewalTaskOpened, renewal_task_id,
)
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application import renewal_tasks as use_cases
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.renewal_task import UNOWNED_ASSIGNEE, RenewalTask, TaskState

END = dt.date(2027, 6, 30)
TERMS = VendorContractTerms(number="OPS-1", vendor="KUKA", vendor_contract_number="KV-1", name="Robot maintenance",
                            contract_model="maintenance", start_date=dt.date(2026, 7, 1), end_date=END)
OWNERS = ["ot-lead@plant4.example", "u-17"]


def test_a_task_is_one_per_period_and_records_each_later_deadline_once():
    contract_id = uuid.uuid4()
    task = RenewalTask.open(contract_id, END, 90, "Renew", OWNERS + ["u-17"])
    assert task.task_id == renewal_task_id(contract_id, END) != renewal_task_id(contract_id, END + dt.timedelta(days=1))
    assert task.assignees == OWNERS  # each once
    assert task.reach_deadline(60) and not task.reach_deadline(60) and not task.reach_deadline(90)
    assert [type(e) for e in task.pending_events] == [RenewalTaskOpened, RenewalTaskDeadlineReached]
    assert task.deadlines == [90, 60]


def test_a_task_without_owners_goes_to_the_accountable_role():
    assert RenewalTask.open(uuid.uuid4(), END, 30, "Renew", []).assignees == [UNOWNED_ASSIGNEE]


def test_completing_is_idempotent_and_a_done_task_records_no_more_deadlines():
    task = RenewalTask.open(uuid.uuid4(), END, 90, "Renew", OWNERS)
    assert task.complete("u-17", "renewed") and not task.complete("u-17", "again")
    assert not task.reach_deadline(30) and not task.supersede("contract_ended")
    assert (task.state, task.note, [type(e) for e in task.pending_events][-1]) == (
        TaskState.COMPLETED, "renewed", RenewalTaskCompleted)


def test_a_superseded_task_cannot_be_completed():
    task = RenewalTask.open(uuid.uuid4(), END, 90, "Renew", OWNERS)
    assert task.supersede("end_date_moved")
    with pytest.raises(ConflictingState) as refused:
        task.complete("u-17", None)
    assert refused.value.rule == "renewal_task.superseded"


def test_who_may_complete_a_task():
    task = RenewalTask.open(uuid.uuid4(), END, 90, "Renew", ["u-17", "role:finance"])
    assert task.may_be_completed_by("u-17", frozenset({"sales"}))
    assert task.may_be_completed_by("anyone", frozenset({"asset_manager"}))
    assert task.may_be_completed_by("u-99", frozenset({"finance"}))  # role:finance is an assignee
    assert not task.may_be_completed_by("u-99", frozenset({"sales"}))


@pytest.fixture
def new_uow():
    store = MemoryEventStore()
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def _handle(new_uow, handler, event, version=1):
    async with new_uow() as uow:
        await handler(uow, Envelope(event, stream_version=version))
        await uow.commit()


async def test_the_first_deadline_opens_the_task_for_the_contracts_owners_and_a_redelivery_changes_nothing(new_uow):
    contract = OperationalContract.register_vendor_contract(TERMS, OperationalTerms(owners=OWNERS))
    async with new_uow() as uow:
        uow.add(contract)
        await uow.commit()
    contract_id = uuid.UUID(contract.id)
    task_id = renewal_task_id(contract_id, END)
    deadline = RenewalDeadlineReached(task_id=task_id, contract_id=contract_id, end_date=END, days_before=30,
                                      reached_at=dt.datetime(2027, 5, 31, tzinfo=dt.UTC))
    for _ in range(2):
        await _handle(new_uow, use_cases.deadline_reached, deadline)
    await _handle(new_uow, use_cases.deadline_reached, deadline.model_copy(update={"days_before": 0}), 2)
    task = await use_cases.get_task(new_uow(), task_id)
    assert (task.version, task.assignees, task.deadlines, task.title) == (
        2, OWNERS, [30, 0], "Renew Robot maintenance (ends 2027-06-30)")
    assert [row["task_id"] for row in await use_cases.list_tasks(new_uow(), assignee="u-17", state="open")] == [task_id]
    assert await use_cases.list_tasks(new_uow(), assignee="u-99") == []
    assert await use_cases.list_tasks(new_uow(), due_before=END - dt.timedelta(days=1)) == []

    with pytest.raises(use_cases.NotAssignee):
        await use_cases.complete(new_uow(), task_id, Principal("u-99", frozenset({"sales"})), "not mine")
    done = await use_cases.complete(new_uow(), task_id, Principal("u-17", frozenset({"sales"})), "renewed")
    again = await use_cases.complete(new_uow(), task_id, Principal("u-17", frozenset({"sales"})), "renewed")
    assert (done.state, again.version) == (TaskState.COMPLETED, done.version)
    assert [r["state"] for r in await use_cases.list_tasks(new_uow(), contract_id=contract_id)] == ["completed"]


async def test_open_tasks_are_superseded_when_the_end_date_moves_or_the_contract_ends(new_uow):
    contract_id = uuid.uuid4()
    for end in (END, END + dt.timedelta(days=365)):
        await _handle(new_uow, use_cases.deadline_reached, RenewalDeadlineReached(
            task_id=renewal_task_id(contract_id, end), contract_id=contract_id, end_date=end, days_before=90,
            reached_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)))
    moved = VendorContractRevised(contract_id=contract_id, terms=TERMS.model_copy(update={"end_date": END + dt.timedelta(days=365)}),
                                  changed=["end_date"])
    await _handle(new_uow, use_cases.contract_revised, moved)
    states = {r["end_date"]: (r["state"], r["superseded_because"])
              for r in await use_cases.list_tasks(new_uow(), contract_id=contract_id)}
    assert states == {END: ("superseded", "end_date_moved"), END + dt.timedelta(days=365): ("open", None)}
    await _handle(new_uow, use_cases.contract_ended,
                  OperationalContractCanceled(contract_id=contract_id, effective_on=dt.date(2027, 3, 1)))
    assert {r["state"] for r in await use_cases.list_tasks(new_uow(), contract_id=contract_id)} == {"superseded"}
    task = await use_cases.get_task(new_uow(), renewal_task_id(contract_id, END + dt.timedelta(days=365)))
    assert type(task) is RenewalTask and task.superseded_because == "contract_ended"
