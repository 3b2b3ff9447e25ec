"""Commands on a contract's lines: MACD add, change and disconnect, date and field edits, what a
line covers, removal while Draft, cancellation."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

from shared.backbone.errors import ConflictingState, invalid
from shared.events.orders import (
    ContractLineCoverageChanged,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineEdited,
    ContractLineQuantityChanged,
    ContractLineRemoved,
    EntitlementDatesChanged,
    EntitlementRemoved,
)
from services.order_sync.domain import rules
from services.order_sync.domain.service_contract.items import (
    ACTIVE, CANCELED, ContractLine, check_within, check_within_dates,
)
from services.order_sync.domain.service_contract.life_cycle import LifeCycle


class LineCommands(LifeCycle):
    def add_line(self, line: ContractLine, today: dt.date, suspended: set[UUID] = frozenset()) -> ContractLine:
        """MACD "add". Idempotent: adding the same line again changes nothing."""
        self._refuse_if_terminal()
        if self._already_added(line, self.lines.get(line.line_id)):
            return self.lines[line.line_id]
        self._add(line, today, suspended)
        return self.lines[line.line_id]

    def remove_line(self, line_id: UUID) -> None:
        line = self.line(line_id)
        self._require_draft_for_removal(line)
        attached = [e for e in self.entitlements.values() if line.holds(e)]
        for ent in attached:  # they go with the line, so each must be removable itself
            self._require_draft_for_removal(ent, field=ent.field_path)
        for ent in attached:
            self.record(EntitlementRemoved(contract_id=self.contract_id, entitlement_id=ent.entitlement_id))
        self.record(ContractLineRemoved(contract_id=self.contract_id, line_id=line_id))

    def change_line_dates(self, line_id: UUID, start_date: dt.date, end_date: dt.date) -> None:
        line = self.line(line_id)
        self._refuse_unless_dates_editable(line, start_date, end_date)
        check_within_dates(start_date, end_date, self.start_date, self.end_date, "line", "the contract")
        for ent in self._open_entitlements_of(line):
            check_within(ent, start_date, end_date, ent.field_path, "its line")
        if (start_date, end_date) != (line.start_date, line.end_date):
            self.record(ContractLineDatesChanged(contract_id=self.contract_id, line_id=line_id, start_date=start_date, end_date=end_date))

    def change_line_quantity(self, line_id: UUID, quantity: int) -> None:
        """MACD "change". A field edit: allowed while Suspended too."""
        line = self.line(line_id)
        self._refuse_if_item_terminal(line)
        if quantity != line.quantity:
            self.record(ContractLineQuantityChanged(
                contract_id=self.contract_id, line_id=line_id, quantity=quantity, previous_quantity=line.quantity))

    def edit_line(self, line_id: UUID, *, product: str | None = None, unit_price: Decimal | None = None) -> None:
        line = self.line(line_id)
        self._refuse_if_item_terminal(line)
        product = line.product if product is None else product
        unit_price = line.unit_price if unit_price is None else unit_price
        if (product, unit_price) != (line.product, line.unit_price):
            self.record(ContractLineEdited(contract_id=self.contract_id, line_id=line_id, product=product, unit_price=unit_price))

    def change_line_coverage(
        self, line_id: UUID, sold_product_id: UUID | None, install_base_item_id: UUID | None,
        today: dt.date, suspended: set[UUID] = frozenset(),
    ) -> None:
        """Points the line at other sold product / install base item; it takes their state."""
        line = self.line(line_id)
        self._refuse_if_item_terminal(line)
        self._refuse_if_suspended(line, "change what a line covers")
        if (sold_product_id, install_base_item_id) == (line.sold_product_id, line.install_base_item_id):
            return
        self.record(ContractLineCoverageChanged(
            contract_id=self.contract_id, line_id=line_id,
            sold_product_id=sold_product_id, install_base_item_id=install_base_item_id,
        ))
        self._suspend_if_covered(suspended, today)

    def disconnect_line(self, line_id: UUID, end_date: dt.date, today: dt.date) -> None:
        """MACD "disconnect": ends an Active line early; its entitlements end with it."""
        line = self.line(line_id)
        self._refuse_if_item_terminal(line)
        self._refuse_if_suspended(line, "disconnect a line")
        if line.state != ACTIVE:
            raise ConflictingState(rules.MACD_DISCONNECT_ONLY_ACTIVE,
                                  f"only an active line can be disconnected; this one is {line.state}", "line_id")
        earliest = max(today, line.start_date)
        if not earliest <= end_date < line.end_date:
            raise invalid(rules.MACD_DISCONNECT_DATE,
                          f"the disconnect date must be from {earliest} to before the line's end {line.end_date}", "end_date")
        shortened = [e for e in self._open_entitlements_of(line) if e.end_date > end_date]
        for ent in shortened:
            self._refuse_if_suspended(ent, "shorten an entitlement by disconnecting its line", ent.field_path)
        self.record(ContractLineDisconnected(
            contract_id=self.contract_id, line_id=line_id, end_date=end_date, previous_end_date=line.end_date))
        for ent in shortened:
            self.record(EntitlementDatesChanged(
                contract_id=self.contract_id, entitlement_id=ent.entitlement_id,
                start_date=min(ent.start_date, end_date), end_date=end_date))

    def cancel_line(self, line_id: UUID, today: dt.date) -> None:
        """Cancels the line and its open entitlements, Suspended ones too: they end with their parent."""
        line = self.line(line_id)
        self._refuse_if_item_terminal(line)
        self._refuse_if_suspended(line, "cancel a line")
        self._end(line, CANCELED, today)
