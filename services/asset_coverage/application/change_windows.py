"""Use cases of change windows. A plan or revision takes the advisory locks of its assets and site
first (adapters/change_window_index.py), then saves its row and asks the index which windows it now
overlaps: both sides of each overlap record `ChangeWindowOverlapFlagged` in the same transaction."""

import datetime as dt
from uuid import UUID

from pydantic import ValidationError

from shared.backbone.errors import AlreadyExists, invalid
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.change_windows import ChangeWindowPlan
from services.asset_coverage.domain import rules
from services.asset_coverage.domain.change_window import ChangeWindow, overlap

WINDOW = "change_window"


def _index(uow: UnitOfWork):
    return uow.views.change_windows


async def _flag_overlaps(uow: UnitOfWork, window: ChangeWindow) -> None:
    for other_id in await _index(uow).overlapping(window.plan, excluding=window.window_id):
        other = await uow.require(ChangeWindow, str(other_id), WINDOW)
        shared = overlap(window.plan, other.plan)
        if shared is None:  # the index and the aggregate disagree only if the row is stale; trust the events
            continue
        window.flag_overlap(other.window_id, shared)
        other.flag_overlap(window.window_id, shared)


async def _commit(uow: UnitOfWork) -> None:
    for aggregate in uow.changed():
        if isinstance(aggregate, ChangeWindow):
            await _index(uow).save(aggregate)
    await uow.commit()


@created_once
async def plan_window(uow: UnitOfWork, window_id: UUID, plan: ChangeWindowPlan) -> tuple[ChangeWindow, bool]:
    """Idempotent by window id: the same plan again answers the window as it is; another plan under
    that id is refused (`change_window.already_exists`)."""
    async with uow:
        existing = await uow.get(ChangeWindow, str(window_id))
        if existing is not None:
            if existing.first_plan != plan:
                raise AlreadyExists(WINDOW, window_id, "window_id")
            return existing, False
        window = ChangeWindow.plan_window(window_id, plan)
        uow.add(window)
        await _index(uow).lock_scope(plan.asset_ids, plan.site)
        await _flag_overlaps(uow, window)
        await _commit(uow)
        return window, True


async def revise_window(uow: UnitOfWork, window_id: UUID, changes: dict,
                        expected_version: int | None) -> ChangeWindow:
    """`changes`: the plan's fields to change (the others stay)."""
    async with uow:
        window = await uow.require(ChangeWindow, str(window_id), WINDOW, expected_version)
        before = window.plan
        plan = revised_plan(before, changes)
        if window.revise(plan):
            await _index(uow).lock_scope(sorted(set(before.asset_ids) | set(plan.asset_ids)), before.site, plan.site)
            await _index(uow).save(window)  # its row as now, so it does not find itself by the old plan
            await _flag_overlaps(uow, window)
        await _commit(uow)
        return window


def revised_plan(plan: ChangeWindowPlan, changes: dict) -> ChangeWindowPlan:
    for required in ("title", "starts_at", "ends_at", "time_zone", "asset_ids"):
        if required in changes and changes[required] is None:
            raise invalid(rules.WINDOW_FIELD_REQUIRED, f"{required} cannot be cleared", field=required)
    try:
        return ChangeWindowPlan.model_validate({**plan.model_dump(), **changes})
    except ValidationError as error:
        first = error.errors()[0]
        raise invalid(rules.WINDOW_FIELD_INVALID, first["msg"], field=".".join(map(str, first["loc"]))) from None


async def cancel_window(uow: UnitOfWork, window_id: UUID, reason: str | None, at: dt.datetime,
                        expected_version: int | None) -> ChangeWindow:
    async with uow:
        window = await uow.require(ChangeWindow, str(window_id), WINDOW, expected_version)
        window.cancel(reason, at)
        await _commit(uow)
        return window


async def get_window(uow: UnitOfWork, window_id: UUID) -> tuple[ChangeWindow, list[tuple[UUID, object]]]:
    """The window and the windows it overlaps now (none once canceled), with what they share."""
    async with uow:
        window = await uow.require(ChangeWindow, str(window_id), WINDOW)
        overlaps = []
        if not window.canceled:
            for other_id in await _index(uow).overlapping(window.plan, excluding=window.window_id):
                other = await uow.require(ChangeWindow, str(other_id), WINDOW)
                if (shared := overlap(window.plan, other.plan)) is not None:
                    overlaps.append((other_id, shared))
        return window, overlaps


async def list_windows(uow: UnitOfWork, **filters) -> list:
    async with uow:
        return await _index(uow).windows(**filters)
