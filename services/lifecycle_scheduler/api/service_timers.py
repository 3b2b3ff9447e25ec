"""REST resource of service contract timers: /api/v1/service-contracts/{contract_id}/timers."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.lifecycle_scheduler.application import timetables

router = APIRouter(tags=["service contract timers"])


class TimerView(BaseModel):
    item_kind: Literal["contract", "line", "entitlement"]
    item_id: UUID
    transition: Literal["activation", "expiry"]
    due_on: dt.date = Field(description="the date whose beginning, in the contract's zone, the timer waits for")
    due_at: dt.datetime
    fired_at: dt.datetime | None


class ServiceContractTimersView(BaseModel):
    contract_id: UUID
    time_zone: str
    timers: list[TimerView] = Field(
        description="in due order; fired timers stay listed, an activation timer goes once its item is active"
    )


@router.get(
    "/service-contracts/{contract_id}/timers",
    response_model=ServiceContractTimersView,
    dependencies=[Depends(any_role)],
)
async def get_service_contract_timers(
    contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)]
) -> ServiceContractTimersView:
    zone, rows = await timetables.list_timers(ctx.uow(), contract_id)
    return ServiceContractTimersView(
        contract_id=contract_id,
        time_zone=zone,
        timers=[
            TimerView(item_kind=r.item_kind, item_id=r.item_id, transition=r.transition, due_on=r.due_on,
                      due_at=r.due_at, fired_at=r.fired_at)
            for r in rows
        ],
    )
