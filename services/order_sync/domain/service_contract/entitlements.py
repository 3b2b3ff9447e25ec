"""Commands on a contract's entitlements, attached to the contract or to one of its lines."""

import datetime as dt
from uuid import UUID

from shared.backbone.errors import invalid
from shared.events.orders import EntitlementDatesChanged, EntitlementEdited, EntitlementRemoved
from services.order_sync.domain import rules
from services.order_sync.domain.service_contract.items import CANCELED, Entitlement, check_within_dates
from services.order_sync.domain.service_contract.life_cycle import LifeCycle


class EntitlementCommands(LifeCycle):
    def add_entitlement(self, ent: Entitlement, today: dt.date, suspended: set[UUID] = frozenset()) -> Entitlement:
        """Attaches an entitlement to the contract or one of its lines. Idempotent like add_line."""
        self._refuse_if_terminal()
        if self._already_added(ent, self.entitlements.get(ent.entitlement_id)):
            return self.entitlements[ent.entitlement_id]
        if ent.line_id is not None:
            if ent.line_id not in self.lines:
                raise invalid(rules.ENTITLEMENT_LINE_UNKNOWN, f"line {ent.line_id} is not on this contract", "line_id")
            self._refuse_if_item_terminal(self.lines[ent.line_id])
        self._add(ent, today, suspended)
        return self.entitlements[ent.entitlement_id]

    def remove_entitlement(self, entitlement_id: UUID) -> None:
        ent = self.entitlement(entitlement_id)
        self._require_draft_for_removal(ent)
        self.record(EntitlementRemoved(contract_id=self.contract_id, entitlement_id=entitlement_id))

    def change_entitlement_dates(self, entitlement_id: UUID, start_date: dt.date, end_date: dt.date) -> None:
        ent = self.entitlement(entitlement_id)
        self._refuse_unless_dates_editable(ent, start_date, end_date)
        start, end, parent = self._bounds_of(ent)
        check_within_dates(start_date, end_date, start, end, "entitlement", parent)
        if (start_date, end_date) != (ent.start_date, ent.end_date):
            self.record(EntitlementDatesChanged(
                contract_id=self.contract_id, entitlement_id=entitlement_id, start_date=start_date, end_date=end_date))

    def edit_entitlement(self, entitlement_id: UUID, **fields) -> None:
        """Field edits (name, support_level, sla, features, usage_limit, usage_unit): allowed while Suspended."""
        ent = self.entitlement(entitlement_id)
        self._refuse_if_item_terminal(ent)
        current = {k: getattr(ent, k) for k in Entitlement.edited_fields}
        new = {**current, **{k: v for k, v in fields.items() if k in current}}
        if new != current:
            self.record(EntitlementEdited(contract_id=self.contract_id, entitlement_id=entitlement_id, **new))

    def cancel_entitlement(self, entitlement_id: UUID, today: dt.date) -> None:
        ent = self.entitlement(entitlement_id)
        self._refuse_if_item_terminal(ent)
        self._refuse_if_suspended(ent, "cancel an entitlement")
        self._end(ent, CANCELED, today)
