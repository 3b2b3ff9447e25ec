"""What a service contract is at a point in its stream: changed only by its events, one handler each."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import NotFound
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineCanceled,
    ContractLineCoverageChanged,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineEdited,
    ContractLineExpired,
    ContractLineQuantityChanged,
    ContractLineRemoved,
    ContractLineResumed,
    ContractLineSuspended,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementDatesChanged,
    EntitlementEdited,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    EntitlementSuspended,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
)
from services.order_sync.domain.service_contract.items import (
    ACTIVE, CANCELED, DRAFT, EXPIRED, SUSPENDED, ContractLine, Entitlement, Item,
)


class ContractState(Aggregate):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.number = ""
        self.account = ""
        self.start_date: dt.date | None = None
        self.end_date: dt.date | None = None
        self.time_zone = "UTC"
        self.state = DRAFT
        self.lines: dict[UUID, ContractLine] = {}
        self.entitlements: dict[UUID, Entitlement] = {}

    @property
    def contract_id(self) -> UUID:
        return UUID(self.id)

    def items(self) -> list[Item]:
        """Lines first: an entitlement's state depends on its line's."""
        return [*self.lines.values(), *self.entitlements.values()]

    def line(self, line_id: UUID) -> ContractLine:
        if line_id not in self.lines:
            raise NotFound("contract_line", line_id)
        return self.lines[line_id]

    def entitlement(self, entitlement_id: UUID) -> Entitlement:
        if entitlement_id not in self.entitlements:
            raise NotFound("entitlement", entitlement_id)
        return self.entitlements[entitlement_id]

    # -- the contract -------------------------------------------------------------------------

    @applies
    def _on_drafted(self, event: ServiceContractDrafted) -> None:
        self._on_recorded(event)
        self.lines = {t.line_id: ContractLine.of(t) for t in event.lines}
        self.entitlements = {t.entitlement_id: Entitlement.of(t) for t in event.entitlements}

    @applies
    def _on_recorded(self, event: ServiceContractRecorded) -> None:
        self.number, self.account, self.time_zone = event.number, event.account, event.time_zone
        self.start_date, self.end_date = event.start_date, event.end_date

    @applies
    def _on_dates_changed(self, event: ServiceContractDatesChanged) -> None:
        self.start_date, self.end_date = event.start_date, event.end_date

    @applies
    def _on_activated(self, event: ServiceContractActivated) -> None:
        self.state = ACTIVE

    @applies
    def _on_expired(self, event: ServiceContractExpired) -> None:
        self.state = EXPIRED

    @applies
    def _on_canceled(self, event: ServiceContractCanceled) -> None:
        self.state = CANCELED

    # -- lines ------------------------------------------------------------------------------------

    @applies
    def _on_line_added(self, event: ContractLineAdded) -> None:
        self.lines[event.line.line_id] = ContractLine.of(event.line)

    @applies
    def _on_line_removed(self, event: ContractLineRemoved) -> None:
        del self.lines[event.line_id]

    @applies
    def _on_line_dates_changed(self, event: ContractLineDatesChanged) -> None:
        line = self.lines[event.line_id]
        line.start_date, line.end_date = event.start_date, event.end_date

    @applies
    def _on_line_quantity_changed(self, event: ContractLineQuantityChanged) -> None:
        self.lines[event.line_id].quantity = event.quantity

    @applies
    def _on_line_edited(self, event: ContractLineEdited) -> None:
        line = self.lines[event.line_id]
        line.product, line.unit_price = event.product, event.unit_price

    @applies
    def _on_line_coverage_changed(self, event: ContractLineCoverageChanged) -> None:
        line = self.lines[event.line_id]
        line.sold_product_id, line.install_base_item_id = event.sold_product_id, event.install_base_item_id

    @applies
    def _on_line_disconnected(self, event: ContractLineDisconnected) -> None:
        self.lines[event.line_id].end_date = event.end_date

    @applies
    def _on_line_activated(self, event: ContractLineActivated) -> None:
        self.lines[event.line_id].state = ACTIVE

    @applies
    def _on_line_suspended(self, event: ContractLineSuspended) -> None:
        self.lines[event.line_id].state = SUSPENDED

    @applies
    def _on_line_resumed(self, event: ContractLineResumed) -> None:
        self.lines[event.line_id].state = event.state

    @applies
    def _on_line_expired(self, event: ContractLineExpired) -> None:
        self.lines[event.line_id].state = EXPIRED

    @applies
    def _on_line_canceled(self, event: ContractLineCanceled) -> None:
        self.lines[event.line_id].state = CANCELED

    # -- entitlements -----------------------------------------------------------------------------

    @applies
    def _on_entitlement_added(self, event: EntitlementAdded) -> None:
        self.entitlements[event.entitlement.entitlement_id] = Entitlement.of(event.entitlement)

    @applies
    def _on_entitlement_removed(self, event: EntitlementRemoved) -> None:
        del self.entitlements[event.entitlement_id]

    @applies
    def _on_entitlement_dates_changed(self, event: EntitlementDatesChanged) -> None:
        ent = self.entitlements[event.entitlement_id]
        ent.start_date, ent.end_date = event.start_date, event.end_date

    @applies
    def _on_entitlement_edited(self, event: EntitlementEdited) -> None:
        ent = self.entitlements[event.entitlement_id]
        for name in Entitlement.edited_fields:
            setattr(ent, name, getattr(event, name))

    @applies
    def _on_entitlement_activated(self, event: EntitlementActivated) -> None:
        self.entitlements[event.entitlement_id].state = ACTIVE

    @applies
    def _on_entitlement_suspended(self, event: EntitlementSuspended) -> None:
        self.entitlements[event.entitlement_id].state = SUSPENDED

    @applies
    def _on_entitlement_resumed(self, event: EntitlementResumed) -> None:
        self.entitlements[event.entitlement_id].state = event.state

    @applies
    def _on_entitlement_expired(self, event: EntitlementExpired) -> None:
        self.entitlements[event.entitlement_id].state = EXPIRED

    @applies
    def _on_entitlement_canceled(self, event: EntitlementCanceled) -> None:
        self.entitlements[event.entitlement_id].state = CANCELED
