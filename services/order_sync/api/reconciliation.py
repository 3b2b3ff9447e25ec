"""REST resources of reconciliation: /api/v1/reconciliation, every executed contract (told by
ContractExecuted; its terms by ContractActivated v2) with the state of its latest check against its service contract (pending,
reconciled, mismatched) and the differences; POST .../{contract_id}/check checks now.

Roles (docs/domain.md, phase 6): Sales Ops (R), the contract manager (A) and Finance (C) trigger a
check; everyone reads."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Cursor, Limit, Page, page_of
from shared.events.reconciliation import Difference
from services.order_sync.application import reconciliation as use_cases
from services.order_sync.domain.reconciliation import ReconciliationState

router = APIRouter(prefix="/reconciliation", tags=["reconciliation"])

may_check = require_roles(Role.SALES_OPS, Role.CONTRACT_MANAGER, Role.FINANCE)


class ReconciliationSummary(BaseModel):
    contract_id: UUID
    number: str | None = Field(description="none until the contract is activated (ContractActivated v2)")
    account: str | None
    executed_at: dt.datetime | None
    state: ReconciliationState
    differences: int
    order_state: str | None
    checked_at: dt.datetime | None
    reconciled_at: dt.datetime | None

    @classmethod
    def of(cls, row) -> "ReconciliationSummary":
        return cls(**{**{k: row[k] for k in cls.model_fields if k != "differences"}, "differences": len(row["differences"])})


class ReconciliationView(BaseModel):
    contract_id: UUID
    number: str | None
    account: str | None
    executed_at: dt.datetime | None
    state: ReconciliationState
    differences: list[Difference]
    order_state: str | None
    checked_at: dt.datetime | None
    reconciled_at: dt.datetime | None

    @classmethod
    def of(cls, row) -> "ReconciliationView":
        return cls(**{k: row[k] for k in cls.model_fields})


Ctx = Annotated[ServiceContext, Depends(context)]


@router.get("", response_model=Page[ReconciliationSummary], dependencies=[Depends(any_role)])
async def list_reconciliations(
    ctx: Ctx, state: Annotated[ReconciliationState | None, Query()] = None, cursor: Cursor = None, limit: Limit = 50,
) -> dict:
    """Every executed contract by contract id, optionally of one state."""
    rows = await use_cases.list_reconciliations(ctx.uow(), state=state and state.value, after=cursor, limit=limit)
    return page_of([ReconciliationSummary.of(r) for r in rows], limit, key=lambda r: r.contract_id)


@router.get("/{contract_id}", response_model=ReconciliationView, dependencies=[Depends(any_role)])
async def get_reconciliation(contract_id: UUID, ctx: Ctx) -> ReconciliationView:
    """The latest check's state and each difference (signed vs active)."""
    return ReconciliationView.of(await use_cases.get_reconciliation(ctx.uow(), contract_id))


@router.post("/{contract_id}/check", response_model=ReconciliationView)
async def check_now(contract_id: UUID, ctx: Ctx, principal: Annotated[Principal, Depends(may_check)]) -> ReconciliationView:
    """Compares now; each difference not found before is a ReconciliationMismatch, agreement after a
    difference (or at the first check) a ContractReconciled. 404 for a contract order sync was never
    told was executed or activated."""
    return ReconciliationView.of(await use_cases.check(ctx.uow(principal), contract_id, ctx.clock.now()))
