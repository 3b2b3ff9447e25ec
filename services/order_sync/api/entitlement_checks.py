"""GET /api/v1/entitlement-checks: the call support and field service make before doing work."""

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.errors import DomainError
from shared.backbone.rest import Date
from services.order_sync.application import entitlement_checks

router = APIRouter(tags=["entitlement checks"])


class GrantingEntitlement(BaseModel):
    contract_id: UUID
    contract_number: str
    entitlement_id: UUID
    line_id: UUID | None
    name: str
    support_level: str | None
    sla: str | None
    features: list[str]
    usage_limit: int | None
    usage_unit: str | None
    start_date: dt.date
    end_date: dt.date
    state: str


class EntitlementCheckView(BaseModel):
    entitled: bool
    to: str
    on: dt.date
    granted_by: list[GrantingEntitlement]


@router.get("/entitlement-checks", response_model=EntitlementCheckView, dependencies=[Depends(any_role)])
async def check_entitlement(
    ctx: Annotated[ServiceContext, Depends(context)],
    to: Annotated[str, Query(min_length=1, description="what the work needs: an entitlement name or feature")],
    on: Annotated[Date | None, Query(description="the date of the work; today (UTC) when omitted")] = None,
    account: str | None = None,
    install_base_item_id: UUID | None = None,
    sold_product_id: UUID | None = None,
) -> EntitlementCheckView:
    """Is this account / install base item / sold product entitled to `to` on `on`, and by which
    contract and entitlement? Give at least one of account, install_base_item_id, sold_product_id."""
    if account is None and install_base_item_id is None and sold_product_id is None:
        raise DomainError("entitlement_check.subject_required",
                          "name an account, an install_base_item_id or a sold_product_id", field="account")
    on = on or ctx.clock.now().date()
    check = await entitlement_checks.check_entitlement(
        ctx.uow(), ctx.clock, name=to, on=on, account=account, covering=install_base_item_id or sold_product_id)
    granted = [GrantingEntitlement(**{k: getattr(r, k) for k in GrantingEntitlement.model_fields}) for r in check.matches]
    return EntitlementCheckView(entitled=check.entitled, to=to, on=on, granted_by=granted)
