"""The life-cycle rules the contract's commands share (docs/domain.md "Service contract life cycle"):
what an item covers and what its dates give, the refusals, and the cascades down to the items."""

import datetime as dt
from dataclasses import replace
from uuid import UUID

from shared.backbone.errors import AlreadyExists, ConflictingState, invalid
from shared.events.orders import ServiceState
from services.order_sync.domain import rules
from services.order_sync.domain.rules import TERMINAL
from services.order_sync.domain.service_contract.items import (
    ACTIVE, DRAFT, EXPIRED, SUSPENDED, ContractLine, Entitlement, Item, check_order, check_within_dates,
)
from services.order_sync.domain.service_contract.state import ContractState


class LifeCycle(ContractState):
    # -- what the items cover, and what their dates give ------------------------------------------

    def covered_by(self, item: Item) -> set[UUID]:
        """The products an item covers; an entitlement on a line also covers what the line covers."""
        line = self._line_of(item)
        return item.own_covers | (line.covers if line else set())

    def covered_products(self) -> set[UUID]:
        return {p for item in self.items() for p in self.covered_by(item)}

    def state_by_dates(self, item: Item, today: dt.date) -> ServiceState:
        """Start past and end ahead -> Active; start ahead (or parent still Draft) -> Draft; end passed -> Expired."""
        if today > item.end_date:
            return EXPIRED
        if today < item.start_date or not self._parent_open(item):
            return DRAFT
        return ACTIVE

    def _line_of(self, item: Item) -> ContractLine | None:
        return self.lines.get(item.parent_line_id) if item.parent_line_id else None

    def _parent_open(self, item: Item) -> bool:
        """Whether the item's parents are in force (Active), so it may be Active itself."""
        line = self._line_of(item)
        return self.state == ACTIVE and (line is None or line.state == ACTIVE)

    def _bounds_of(self, item: Item) -> tuple[dt.date, dt.date, str]:
        if line := self._line_of(item):
            return max(self.start_date, line.start_date), min(self.end_date, line.end_date), "its line and the contract"
        return self.start_date, self.end_date, "the contract"

    def _state_for(self, item: Item, today: dt.date, suspended: set[UUID]) -> ServiceState:
        """The state a new item starts in. An entitlement covers what its line covers, so a Suspended line's is Suspended."""
        line = self._line_of(item)
        if self.covered_by(item) & suspended or (line and line.state == SUSPENDED):
            return SUSPENDED
        if self.state == DRAFT:
            return DRAFT
        return self.state_by_dates(item, today)

    def _open_items(self) -> list[Item]:
        return [i for i in self.items() if i.state not in TERMINAL]

    def _open_entitlements_of(self, item: Item) -> list[Entitlement]:
        return [e for e in self.entitlements.values() if item.holds(e) and e.state not in TERMINAL]

    # -- refusals -------------------------------------------------------------------------------------

    def _refuse_if_terminal(self) -> None:
        if self.state in TERMINAL:
            raise ConflictingState(rules.STATE_TERMINAL, f"the contract is {self.state}: nothing more can be done", "state")

    def _refuse_if_item_terminal(self, item: Item, field: str = "state") -> None:
        self._refuse_if_terminal()
        if item.state in TERMINAL:
            raise ConflictingState(rules.STATE_TERMINAL, f"the {item.kind} is {item.state}: nothing more can be done", field)

    def _refuse_if_suspended(self, item: Item, what: str, field: str = "state") -> None:
        if item.state == SUSPENDED:
            raise ConflictingState(rules.SUSPENDED_ONLY_FIELD_EDITS,
                                  f"cannot {what} while it is suspended: only field edits and new related records", field)

    def _refuse_unless_dates_editable(self, item: Item, start_date: dt.date, end_date: dt.date) -> None:
        self._refuse_if_item_terminal(item)
        self._refuse_if_suspended(item, f"change a {item.kind}'s dates")
        check_order(start_date, end_date, "end_date")
        if item.state == ACTIVE:
            if start_date != item.start_date:
                raise ConflictingState(rules.ACTIVE_START_DATE_FROZEN, f"an active {item.kind}'s start date cannot change", "start_date")
            if end_date < item.end_date:
                raise ConflictingState(rules.ACTIVE_END_DATE_EXTEND_ONLY,
                                      f"an active {item.kind}'s end date can only be extended beyond {item.end_date}", "end_date")

    def _require_draft_for_removal(self, item: Item, field: str = "state") -> None:
        self._refuse_if_item_terminal(item, field)
        self._refuse_if_suspended(item, f"remove a {item.kind}", field)
        if item.state != DRAFT:
            raise ConflictingState(rules.DRAFT_REMOVE_ONLY_IN_DRAFT,
                                  f"only a draft {item.kind} can be removed; this one is {item.state}", field)

    def _already_added(self, item: Item, existing: Item | None) -> bool:
        """Adding the same item again changes nothing; the same id with other terms is refused."""
        if existing is None:
            return False
        if replace(existing, state=DRAFT) != replace(item, state=DRAFT):
            raise AlreadyExists(item.record, item.item_id, field=f"{item.kind}_id")
        return True

    def _add(self, item: Item, today: dt.date, suspended: set[UUID]) -> None:
        """Records a new item within its parents' dates, in the state it starts in."""
        check_order(item.start_date, item.end_date, "end_date")
        start, end, parent = self._bounds_of(item)
        check_within_dates(item.start_date, item.end_date, start, end, item.kind, parent)
        if self.state == ACTIVE and item.end_date < today:
            raise invalid(rules.DATES_END_BEFORE_TODAY, f"the contract is active: a new {item.kind} cannot end before {today}", "end_date")
        self.record(replace(item, state=self._state_for(item, today, suspended)).added_event(self.contract_id))

    # -- cascades -------------------------------------------------------------------------------------

    def _suspend_if_covered(self, suspended: set[UUID], today: dt.date) -> None:
        for item in self.items():
            if item.state in (DRAFT, ACTIVE) and self.covered_by(item) & suspended:
                self.record(item.entered_event(SUSPENDED, self.contract_id, today))

    def _end(self, item: Item, state: ServiceState, on: dt.date) -> None:
        """Expires or cancels an item that is not terminal yet; a line's open entitlements end with it."""
        if item.state in TERMINAL:
            return
        self.record(item.entered_event(state, self.contract_id, on))
        for ent in self._open_entitlements_of(item):
            self._end(ent, state, on)
