"""The entitlement check: is an account or a product entitled to something on a date, and by what?"""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.clock import Clock, today_in
from shared.backbone.unit_of_work import UnitOfWork
from services.order_sync.application.indexing import indexes


@dataclass(frozen=True)
class EntitlementCheck:
    entitled: bool
    matches: list  # rows of entitlement_index that grant it on the date


async def check_entitlement(
    uow: UnitOfWork, clock: Clock, *, name: str, on: dt.date, account: str | None = None, covering: UUID | None = None,
) -> EntitlementCheck:
    """Is the account / product entitled to `name` on `on`, and by which contract and entitlement?

    Granted by an Active entitlement whose dates hold the date, by an Expired one for a date
    within its dates (it was in force then), and by a Draft one for a future date (it will be);
    never by a Suspended or Canceled one."""
    async with uow:
        rows = await indexes(uow).entitlements_for(name=name, on=on, account=account, covering=covering)
    granting = [
        r for r in rows
        if r.state in ("active", "expired") or (r.state == "draft" and on > today_in(clock, r.time_zone))
    ]
    return EntitlementCheck(bool(granting), granting)
