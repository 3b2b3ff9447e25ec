"""A change window: planned maintenance on assets and/or a site, from one instant to another.

Planned -> (revised)* -> canceled (terminal). Two windows overlap when neither is canceled, their
half-open intervals [starts_at, ends_at) intersect, and they share an asset or the site
(`overlap`, pure). Finding the other windows is the use case's job (an index query in the same
transaction); the window records each overlap it is told of once per pair and shared scope
(`flag_overlap`), and forgets its flags when its own plan changes, so they are found afresh."""

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import EARLIEST_DATE, LATEST_DATE, is_plannable, is_time_zone
from shared.backbone.errors import ConflictingState, invalid
from shared.events.change_windows import (
    ChangeWindowCanceled, ChangeWindowOverlapFlagged, ChangeWindowPlan, ChangeWindowPlanned, ChangeWindowRevised,
)
from services.asset_coverage.domain import rules


@dataclass(frozen=True)
class Overlap:
    """What two windows share while their times intersect."""

    asset_ids: tuple[str, ...]
    site: str | None


def overlap(a: ChangeWindowPlan, b: ChangeWindowPlan) -> Overlap | None:
    """The assets and site two plans share when their intervals intersect; None when they do not overlap."""
    if not (a.starts_at < b.ends_at and b.starts_at < a.ends_at):
        return None
    assets = tuple(sorted(set(a.asset_ids) & set(b.asset_ids)))
    site = a.site if a.site is not None and a.site == b.site else None
    return Overlap(assets, site) if assets or site else None


def check_plan(plan: ChangeWindowPlan) -> None:
    for name in ("starts_at", "ends_at"):
        if not _plannable(getattr(plan, name)):
            raise invalid(rules.DATES_OUT_OF_RANGE, f"{name} lies outside {EARLIEST_DATE}..{LATEST_DATE}", field=name)
    if plan.ends_at <= plan.starts_at:
        raise invalid(rules.WINDOW_ENDS_BEFORE_START, "ends_at must be after starts_at", field="ends_at")
    if not plan.asset_ids and plan.site is None:
        raise invalid(rules.WINDOW_NOTHING_AFFECTED, "a change window is on assets, a site, or both", field="asset_ids")
    if not is_time_zone(plan.time_zone):
        raise invalid(rules.WINDOW_UNKNOWN_TIME_ZONE, f"{plan.time_zone!r} is not an IANA time zone", field="time_zone")


def _plannable(instant: dt.datetime) -> bool:
    try:
        return is_plannable(instant.astimezone(dt.UTC).date())
    except OverflowError:  # 0001-01-01 with a positive offset is before datetime.min in UTC
        return False


class ChangeWindow(Aggregate):
    stream_type = "change_window"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.plan: ChangeWindowPlan | None = None
        self.first_plan: ChangeWindowPlan | None = None  # as planned: what a retried create is compared with
        self.canceled_at: dt.datetime | None = None
        self.flagged: dict[UUID, Overlap] = {}  # other window -> what they shared when flagged

    @property
    def window_id(self) -> UUID:
        return UUID(self.id)

    @property
    def canceled(self) -> bool:
        return self.canceled_at is not None

    @classmethod
    def plan_window(cls, window_id: UUID, plan: ChangeWindowPlan) -> "ChangeWindow":
        check_plan(plan)
        window = cls(str(window_id))
        window.record(ChangeWindowPlanned(window_id=window_id, plan=plan))
        return window

    def revise(self, plan: ChangeWindowPlan) -> bool:
        """False when nothing changed."""
        self._require_open()
        check_plan(plan)
        changed = [name for name in ChangeWindowPlan.model_fields if getattr(plan, name) != getattr(self.plan, name)]
        if changed:
            self.record(ChangeWindowRevised(window_id=self.window_id, plan=plan, changed=changed))
        return bool(changed)

    def cancel(self, reason: str | None, at: dt.datetime) -> bool:
        """False when already canceled (a repeated cancel changes nothing)."""
        if self.canceled:
            return False
        self.record(ChangeWindowCanceled(window_id=self.window_id, reason=reason, canceled_at=at))
        return True

    def flag_overlap(self, other: UUID, shared: Overlap) -> bool:
        if self.canceled or self.flagged.get(other) == shared:
            return False
        self.record(ChangeWindowOverlapFlagged(window_id=self.window_id, other_window_id=other,
                                               shared_asset_ids=list(shared.asset_ids), shared_site=shared.site))
        return True

    def _require_open(self) -> None:
        if self.canceled:
            raise ConflictingState(rules.WINDOW_CANCELED, f"change window {self.id} is canceled", field="window_id")

    @applies
    def _on_planned(self, event: ChangeWindowPlanned) -> None:
        self.plan = self.first_plan = event.plan

    @applies
    def _on_revised(self, event: ChangeWindowRevised) -> None:
        self.plan = event.plan
        self.flagged = {}

    @applies
    def _on_canceled(self, event: ChangeWindowCanceled) -> None:
        self.canceled_at = event.canceled_at
        self.flagged = {}

    @applies
    def _on_overlap_flagged(self, event: ChangeWindowOverlapFlagged) -> None:
        self.flagged[event.other_window_id] = Overlap(tuple(event.shared_asset_ids), event.shared_site)
