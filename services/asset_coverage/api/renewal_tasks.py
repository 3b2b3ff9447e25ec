"""REST resources of renewal tasks: /api/v1/renewal-tasks (list, read, complete)."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, any_role
from shared.backbone.rest import Cursor, Date, Limit, Page, page_of, with_version
from services.asset_coverage.application import renewal_tasks as use_cases
from services.asset_coverage.domain.renewal_task import RenewalTask

router = APIRouter(prefix="/renewal-tasks", tags=["renewal tasks"])

TaskStateName = Literal["open", "completed", "superseded"]


class RenewalTaskView(BaseModel):
    task_id: UUID
    contract_id: UUID
    end_date: dt.date = Field(description="the end of the contract period to renew")
    title: str
    state: TaskStateName
    assignees: list[str] = Field(description="the contract's owners when the task opened")
    deadlines: list[int] = Field(description="the deadlines reached, in days before end_date, in order")
    completed_by: str | None = None
    note: str | None = None
    superseded_because: str | None = None
    version: int

    @classmethod
    def of(cls, task: RenewalTask) -> "RenewalTaskView":
        return cls(task_id=task.task_id, contract_id=task.contract_id, end_date=task.end_date, title=task.title,
                   state=task.state.value, assignees=task.assignees, deadlines=task.deadlines,
                   completed_by=task.completed_by, note=task.note, superseded_because=task.superseded_because,
                   version=task.version)


class CompleteTask(BaseModel):
    note: str | None = Field(default=None, max_length=2000, description="what was decided: renewed, let lapse, ...")


@router.get("", response_model=Page[RenewalTaskView], dependencies=[Depends(any_role)])
async def list_renewal_tasks(
    ctx: Annotated[ServiceContext, Depends(context)],
    state: Annotated[TaskStateName | None, Query()] = None,
    contract_id: Annotated[UUID | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=320,
                                          description="a user id, e-mail address or role:<name>")] = None,
    due_before: Annotated[Date | None, Query(description="periods ending on or before this date")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict:
    """Tasks by task id, filtered; a filter left out matches any."""
    rows = await use_cases.list_tasks(ctx.uow(), state=state, contract_id=contract_id, assignee=assignee,
                                      due_before=due_before, after=cursor, limit=limit)
    return page_of([RenewalTaskView(**row) for row in rows], limit, key=lambda t: t.task_id)


@router.get("/{task_id}", response_model=RenewalTaskView, dependencies=[Depends(any_role)])
async def get_renewal_task(task_id: UUID, response: Response,
                           ctx: Annotated[ServiceContext, Depends(context)]) -> RenewalTaskView:
    task = await use_cases.get_task(ctx.uow(), task_id)
    with_version(response, task.version)
    return RenewalTaskView.of(task)


@router.post("/{task_id}/complete", response_model=RenewalTaskView,
             responses={403: {"description": "neither an asset manager nor an assignee"},
                        409: {"description": "the task was superseded"}})
async def complete_renewal_task(
    task_id: UUID, body: CompleteTask, response: Response,
    principal: Annotated[Principal, Depends(any_role)], ctx: Annotated[ServiceContext, Depends(context)],
) -> RenewalTaskView:
    """By an asset manager or an assignee (their user id or role:<role> among the assignees). A
    retry on a completed task answers the task as it is: no new event."""
    try:
        task = await use_cases.complete(ctx.uow(principal), task_id, principal, body.note)
    except use_cases.NotAssignee as exc:
        raise HTTPException(403, detail={"rule": exc.rule, "message": "only an asset manager or an assignee of the "
                                                                      "task may complete it"}) from exc
    with_version(response, task.version)
    return RenewalTaskView.of(task)
