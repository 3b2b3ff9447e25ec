"""A service contract with its lines and entitlements: one aggregate, so that its cascades
(expiry, cancellation, suspension) and its date rules hold in one transaction.

States follow DOMAIN.md "Service contract life cycle": Draft -> Active at the start date ->
Expired after the end date; Canceled on request; lines and entitlements become Suspended while a
sold product or install base item they cover is suspended. Time-driven transitions happen in
`reach(date)`, which the scheduler triggers when a start or end date is reached in the
contract's time zone. Rule names are in `rules`.
"""

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Iterable, Union
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import is_time_zone
from shared.backbone.errors import NotFound
from shared.events import (
    ContractActivated,
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
    ContractLineTerms,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementDatesChanged,
    EntitlementEdited,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    EntitlementSuspended,
    EntitlementTerms,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)
from services.order_sync.domain import rules
from services.order_sync.domain.rules import TERMINAL, invalid, refuse_in_state

DRAFT, ACTIVE, SUSPENDED = ServiceState.DRAFT, ServiceState.ACTIVE, ServiceState.SUSPENDED
EXPIRED, CANCELED = ServiceState.EXPIRED, ServiceState.CANCELED
DAY = dt.timedelta(days=1)


@dataclass
class ContractLine:
    line_id: UUID
    product: str
    quantity: int
    unit_price: Decimal
    start_date: dt.date
    end_date: dt.date
    sold_product_id: UUID | None = None
    install_base_item_id: UUID | None = None
    state: ServiceState = DRAFT

    kind = "line"

    @property
    def item_id(self) -> UUID:
        return self.line_id

    @property
    def covers(self) -> set[UUID]:
        return {p for p in (self.sold_product_id, self.install_base_item_id) if p}

    def terms(self) -> ContractLineTerms:
        return ContractLineTerms(**self.__dict__)

    @classmethod
    def of(cls, terms: ContractLineTerms) -> "ContractLine":
        return cls(**terms.model_dump())


@dataclass
class Entitlement:
    entitlement_id: UUID
    name: str
    start_date: dt.date
    end_date: dt.date
    line_id: UUID | None = None
    support_level: str | None = None
    sla: str | None = None
    features: list[str] = field(default_factory=list)
    usage_limit: int | None = None
    usage_unit: str | None = None
    sold_product_id: UUID | None = None
    install_base_item_id: UUID | None = None
    state: ServiceState = DRAFT

    kind = "entitlement"

    @property
    def item_id(self) -> UUID:
        return self.entitlement_id

    @property
    def own_covers(self) -> set[UUID]:
        return {p for p in (self.sold_product_id, self.install_base_item_id) if p}

    def terms(self) -> EntitlementTerms:
        return EntitlementTerms(**self.__dict__)

    @classmethod
    def of(cls, terms: EntitlementTerms) -> "Entitlement":
        return cls(**terms.model_dump())


Item = Union[ContractLine, Entitlement]


class ServiceContract(Aggregate):
    stream_type = "service_contract"

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

    # -- creation -------------------------------------------------------------------------

    @classmethod
    def draft(
        cls, contract_id: UUID, *, number: str, account: str, start_date: dt.date, end_date: dt.date,
        time_zone: str = "UTC", lines: Iterable[ContractLine] = (), entitlements: Iterable[Entitlement] = (),
        suspended: set[UUID] = frozenset(),
    ) -> "ServiceContract":
        """A new contract in Draft. Children covering a suspended product start Suspended."""
        _check_order(start_date, end_date, "end_date")
        if not is_time_zone(time_zone):
            raise invalid(rules.TIME_ZONE_UNKNOWN, f"{time_zone!r} is not an IANA time zone", "time_zone")
        draft = cls(str(contract_id))
        lines, entitlements = list(lines), list(entitlements)
        line_dates = {}
        for i, line in enumerate(lines):
            _check_order(line.start_date, line.end_date, f"lines[{i}].end_date")
            _check_within(line, start_date, end_date, f"lines[{i}]", "the contract")
            if line.line_id in line_dates:
                raise invalid(rules.ITEM_ALREADY_EXISTS, f"line {line.line_id} appears twice", f"lines[{i}].line_id")
            line_dates[line.line_id] = line
        seen_entitlements = set()
        for i, ent in enumerate(entitlements):
            _check_order(ent.start_date, ent.end_date, f"entitlements[{i}].end_date")
            _check_within(ent, start_date, end_date, f"entitlements[{i}]", "the contract")
            if ent.line_id is not None:
                if ent.line_id not in line_dates:
                    raise invalid(rules.ENTITLEMENT_LINE_UNKNOWN, f"line {ent.line_id} is not on this contract",
                                  f"entitlements[{i}].line_id")
                parent = line_dates[ent.line_id]
                _check_within(ent, parent.start_date, parent.end_date, f"entitlements[{i}]", "its line")
            if ent.entitlement_id in seen_entitlements:
                raise invalid(rules.ITEM_ALREADY_EXISTS, f"entitlement {ent.entitlement_id} appears twice",
                              f"entitlements[{i}].entitlement_id")
            seen_entitlements.add(ent.entitlement_id)

        def initial(covered: set[UUID]) -> ServiceState:
            return SUSPENDED if covered & suspended else DRAFT

        line_terms = [replace(line, state=initial(line.covers)).terms() for line in lines]
        ent_terms = [
            replace(ent, state=initial(ent.own_covers | (line_dates[ent.line_id].covers if ent.line_id else set()))).terms()
            for ent in entitlements
        ]
        draft.record(ServiceContractDrafted(
            contract_id=contract_id, number=number, account=account, start_date=start_date, end_date=end_date,
            time_zone=time_zone, lines=line_terms, entitlements=ent_terms,
        ))
        return draft

    @classmethod
    def record_from(cls, activated: ContractActivated) -> "ServiceContract":
        """The service side of an activated legal contract: same id, dates and zone; Draft until its start date."""
        customer = next(p.name for p in activated.parties if p.role == "customer")
        contract = cls(str(activated.contract_id))
        contract.record(ServiceContractRecorded(
            contract_id=activated.contract_id, number=activated.number, account=customer,
            start_date=activated.start_date, end_date=activated.end_date, time_zone=activated.time_zone,
        ))
        return contract

    # -- the contract ---------------------------------------------------------------------

    def change_dates(self, start_date: dt.date, end_date: dt.date) -> None:
        self._refuse_if_terminal()
        _check_order(start_date, end_date, "end_date")
        if self.state == ACTIVE:
            if start_date != self.start_date:
                raise refuse_in_state(rules.ACTIVE_START_DATE_FROZEN, "an active contract's start date cannot change", "start_date")
            if end_date < self.end_date:
                raise refuse_in_state(rules.ACTIVE_END_DATE_EXTEND_ONLY,
                                      f"an active contract's end date can only be extended beyond {self.end_date}", "end_date")
        for item in self._open_items():
            _check_within(item, start_date, end_date, _item_field(item), "the contract")
        if (start_date, end_date) != (self.start_date, self.end_date):
            self.record(ServiceContractDatesChanged(contract_id=self.contract_id, start_date=start_date, end_date=end_date))

    def cancel(self, today: dt.date, reason: str = "") -> None:
        # Allowed with Suspended children: the contract itself is never Suspended, and its formal
        # cancellation ends everything under it, as its expiry does ("cascades go down").
        self._refuse_if_terminal()
        self.record(ServiceContractCanceled(contract_id=self.contract_id, effective_on=today, reason=reason))
        for line in list(self.lines.values()):
            self._cancel_line(line, today)
        for ent in list(self.entitlements.values()):
            self._cancel_entitlement(ent, today)

    def reach(self, today: dt.date) -> None:
        """Applies what the dates say on `today`: activations on start dates, expiries after end
        dates, the contract's expiry cascading to its children. Reaching a date twice changes nothing."""
        if self.state in TERMINAL:
            return
        if self.state == DRAFT and self.start_date <= today:
            self.record(ServiceContractActivated(contract_id=self.contract_id, effective_on=self.start_date))
        if self.state == ACTIVE:
            for line in self.lines.values():
                if line.state == DRAFT and line.start_date <= today:
                    self.record(ContractLineActivated(contract_id=self.contract_id, line_id=line.line_id, effective_on=line.start_date))
            for ent in self.entitlements.values():
                if ent.state == DRAFT and ent.start_date <= today and self._parent_open(ent):
                    self.record(EntitlementActivated(
                        contract_id=self.contract_id, entitlement_id=ent.entitlement_id, effective_on=ent.start_date))
        if self.end_date < today:
            self.record(ServiceContractExpired(contract_id=self.contract_id, effective_on=self.end_date + DAY))
            for line in list(self.lines.values()):
                self._expire_line(line, self.end_date + DAY)
            for ent in list(self.entitlements.values()):
                self._expire_entitlement(ent, self.end_date + DAY)
            return
        for line in list(self.lines.values()):
            if line.end_date < today:
                self._expire_line(line, line.end_date + DAY)
        for ent in list(self.entitlements.values()):
            if ent.end_date < today:
                self._expire_entitlement(ent, ent.end_date + DAY)

    # -- lines ----------------------------------------------------------------------------

    def add_line(self, line: ContractLine, today: dt.date, suspended: set[UUID] = frozenset()) -> ContractLine:
        """MACD "add". Idempotent: adding the same line again changes nothing."""
        self._refuse_if_terminal()
        if line.line_id in self.lines:
            existing = self.lines[line.line_id]
            if replace(existing, state=DRAFT) == replace(line, state=DRAFT):
                return existing
            raise refuse_in_state(rules.ITEM_ALREADY_EXISTS, f"line {line.line_id} exists with other terms", "line_id")
        self._check_new_item_dates(line, today)
        line = replace(line, state=DRAFT)
        line.state = self._state_for(line, today, suspended, covers=line.covers)
        self.record(ContractLineAdded(contract_id=self.contract_id, line=line.terms()))
        return self.lines[line.line_id]

    def remove_line(self, line_id: UUID) -> None:
        line = self.line(line_id)
        self._require_draft_for_removal(line)
        attached = [e for e in self.entitlements.values() if e.line_id == line_id]
        for ent in attached:  # they go with the line, so each must be removable itself
            self._require_draft_for_removal(ent, field=_item_field(ent))
        for ent in attached:
            self.record(EntitlementRemoved(contract_id=self.contract_id, entitlement_id=ent.entitlement_id))
        self.record(ContractLineRemoved(contract_id=self.contract_id, line_id=line_id))

    def change_line_dates(self, line_id: UUID, start_date: dt.date, end_date: dt.date) -> None:
        line = self.line(line_id)
        self._refuse_unless_dates_editable(line, start_date, end_date)
        _check_within_dates(start_date, end_date, self.start_date, self.end_date, "line", "the contract")
        for ent in self._open_entitlements_of(line_id):
            _check_within(ent, start_date, end_date, _item_field(ent), "its line")
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
            raise refuse_in_state(rules.MACD_DISCONNECT_ONLY_ACTIVE,
                                  f"only an active line can be disconnected; this one is {line.state}", "line_id")
        earliest = max(today, line.start_date)
        if not earliest <= end_date < line.end_date:
            raise invalid(rules.MACD_DISCONNECT_DATE,
                          f"the disconnect date must be from {earliest} to before the line's end {line.end_date}", "end_date")
        shortened = [e for e in self._open_entitlements_of(line_id) if e.end_date > end_date]
        for ent in shortened:
            self._refuse_if_suspended(ent, "shorten an entitlement by disconnecting its line", _item_field(ent))
        self.record(ContractLineDisconnected(
            contract_id=self.contract_id, line_id=line_id, end_date=end_date, previous_end_date=line.end_date))
        for ent in shortened:
            self.record(EntitlementDatesChanged(
                contract_id=self.contract_id, entitlement_id=ent.entitlement_id,
                start_date=min(ent.start_date, end_date), end_date=end_date))

    def cancel_line(self, line_id: UUID, today: dt.date) -> None:
        line = self.line(line_id)
        self._refuse_if_item_terminal(line)
        self._refuse_if_suspended(line, "cancel a line")
        self._cancel_line(line, today)

    # -- entitlements ---------------------------------------------------------------------

    def add_entitlement(self, ent: Entitlement, today: dt.date, suspended: set[UUID] = frozenset()) -> Entitlement:
        """Attaches an entitlement to the contract or one of its lines. Idempotent like add_line."""
        self._refuse_if_terminal()
        if ent.entitlement_id in self.entitlements:
            existing = self.entitlements[ent.entitlement_id]
            if replace(existing, state=DRAFT) == replace(ent, state=DRAFT):
                return existing
            raise refuse_in_state(rules.ITEM_ALREADY_EXISTS, f"entitlement {ent.entitlement_id} exists with other terms", "entitlement_id")
        if ent.line_id is not None:
            if ent.line_id not in self.lines:
                raise invalid(rules.ENTITLEMENT_LINE_UNKNOWN, f"line {ent.line_id} is not on this contract", "line_id")
            self._refuse_if_item_terminal(self.lines[ent.line_id])
        self._check_new_item_dates(ent, today)
        ent = replace(ent, state=DRAFT)
        ent.state = self._state_for(ent, today, suspended, covers=self.covered_by(ent))
        self.record(EntitlementAdded(contract_id=self.contract_id, entitlement=ent.terms()))
        return self.entitlements[ent.entitlement_id]

    def remove_entitlement(self, entitlement_id: UUID) -> None:
        ent = self.entitlement(entitlement_id)
        self._require_draft_for_removal(ent)
        self.record(EntitlementRemoved(contract_id=self.contract_id, entitlement_id=entitlement_id))

    def change_entitlement_dates(self, entitlement_id: UUID, start_date: dt.date, end_date: dt.date) -> None:
        ent = self.entitlement(entitlement_id)
        self._refuse_unless_dates_editable(ent, start_date, end_date)
        start, end, parent = self._bounds_of(ent)
        _check_within_dates(start_date, end_date, start, end, "entitlement", parent)
        if (start_date, end_date) != (ent.start_date, ent.end_date):
            self.record(EntitlementDatesChanged(
                contract_id=self.contract_id, entitlement_id=entitlement_id, start_date=start_date, end_date=end_date))

    def edit_entitlement(self, entitlement_id: UUID, **fields) -> None:
        """Field edits (name, support_level, sla, features, usage_limit, usage_unit): allowed while Suspended."""
        ent = self.entitlement(entitlement_id)
        self._refuse_if_item_terminal(ent)
        current = {k: getattr(ent, k) for k in ("name", "support_level", "sla", "features", "usage_limit", "usage_unit")}
        new = {**current, **{k: v for k, v in fields.items() if k in current}}
        if new != current:
            self.record(EntitlementEdited(contract_id=self.contract_id, entitlement_id=entitlement_id, **new))

    def cancel_entitlement(self, entitlement_id: UUID, today: dt.date) -> None:
        ent = self.entitlement(entitlement_id)
        self._refuse_if_item_terminal(ent)
        self._refuse_if_suspended(ent, "cancel an entitlement")
        self._cancel_entitlement(ent, today)

    # -- what the items cover ---------------------------------------------------------------

    def covered_by(self, item: Item) -> set[UUID]:
        """The products an item covers; an entitlement on a line also covers what the line covers."""
        if isinstance(item, ContractLine):
            return item.covers
        line = self.lines.get(item.line_id) if item.line_id else None
        return item.own_covers | (line.covers if line else set())

    def covered_products(self) -> set[UUID]:
        return {p for item in self.items() for p in self.covered_by(item)}

    def suspend_covering(self, product_id: UUID, today: dt.date) -> None:
        """A covered product was suspended: its Draft/Active lines and entitlements follow."""
        self._suspend_if_covered({product_id}, today)

    def resume_covering(self, product_id: UUID, today: dt.date, still_suspended: set[UUID] = frozenset()) -> None:
        """A covered product was resumed: each item it held suspended (and nothing else holds)
        takes the state its dates give today."""
        for item in self.items():  # lines first: an entitlement's state depends on its line's
            covered = self.covered_by(item)
            if item.state == SUSPENDED and product_id in covered and not (covered & still_suspended):
                state = self.state_by_dates(item, today)
                if isinstance(item, ContractLine):
                    self.record(ContractLineResumed(contract_id=self.contract_id, line_id=item.line_id, effective_on=today, state=state))
                else:
                    self.record(EntitlementResumed(
                        contract_id=self.contract_id, entitlement_id=item.entitlement_id, effective_on=today, state=state))

    def state_by_dates(self, item: Item, today: dt.date) -> ServiceState:
        """Start past and end ahead -> Active; start ahead (or parent still Draft) -> Draft; end passed -> Expired."""
        if today > item.end_date:
            return EXPIRED
        if today < item.start_date or not self._parent_open(item):
            return DRAFT
        return ACTIVE

    # -- reading ----------------------------------------------------------------------------

    def items(self) -> list[Item]:
        return [*self.lines.values(), *self.entitlements.values()]

    def line(self, line_id: UUID) -> ContractLine:
        if line_id not in self.lines:
            raise NotFound("contract_line", line_id)
        return self.lines[line_id]

    def entitlement(self, entitlement_id: UUID) -> Entitlement:
        if entitlement_id not in self.entitlements:
            raise NotFound("entitlement", entitlement_id)
        return self.entitlements[entitlement_id]

    # -- rules ------------------------------------------------------------------------------

    def _refuse_if_terminal(self) -> None:
        if self.state in TERMINAL:
            raise refuse_in_state(rules.STATE_TERMINAL, f"the contract is {self.state}: nothing more can be done", "state")

    def _refuse_if_item_terminal(self, item: Item, field: str = "state") -> None:
        self._refuse_if_terminal()
        if item.state in TERMINAL:
            raise refuse_in_state(rules.STATE_TERMINAL, f"the {item.kind} is {item.state}: nothing more can be done", field)

    def _refuse_if_suspended(self, item: Item, what: str, field: str = "state") -> None:
        if item.state == SUSPENDED:
            raise refuse_in_state(rules.SUSPENDED_ONLY_FIELD_EDITS,
                                  f"cannot {what} while it is suspended: only field edits and new related records", field)

    def _refuse_unless_dates_editable(self, item: Item, start_date: dt.date, end_date: dt.date) -> None:
        self._refuse_if_item_terminal(item)
        self._refuse_if_suspended(item, f"change a {item.kind}'s dates")
        _check_order(start_date, end_date, "end_date")
        if item.state == ACTIVE:
            if start_date != item.start_date:
                raise refuse_in_state(rules.ACTIVE_START_DATE_FROZEN, f"an active {item.kind}'s start date cannot change", "start_date")
            if end_date < item.end_date:
                raise refuse_in_state(rules.ACTIVE_END_DATE_EXTEND_ONLY,
                                      f"an active {item.kind}'s end date can only be extended beyond {item.end_date}", "end_date")

    def _require_draft_for_removal(self, item: Item, field: str = "state") -> None:
        self._refuse_if_item_terminal(item, field)
        self._refuse_if_suspended(item, f"remove a {item.kind}", field)
        if item.state != DRAFT:
            raise refuse_in_state(rules.DRAFT_REMOVE_ONLY_IN_DRAFT,
                                  f"only a draft {item.kind} can be removed; this one is {item.state}", field)

    def _check_new_item_dates(self, item: Item, today: dt.date) -> None:
        _check_order(item.start_date, item.end_date, "end_date")
        start, end, parent = self._bounds_of(item)
        _check_within_dates(item.start_date, item.end_date, start, end, item.kind, parent)
        if self.state == ACTIVE and item.end_date < today:
            raise invalid(rules.DATES_END_BEFORE_TODAY, f"the contract is active: a new {item.kind} cannot end before {today}", "end_date")

    def _bounds_of(self, item: Item) -> tuple[dt.date, dt.date, str]:
        if isinstance(item, Entitlement) and item.line_id is not None:
            line = self.lines[item.line_id]
            return max(self.start_date, line.start_date), min(self.end_date, line.end_date), "its line and the contract"
        return self.start_date, self.end_date, "the contract"

    def _parent_open(self, item: Item) -> bool:
        """Whether the item's parents are in force (Active), so it may be Active itself."""
        if self.state != ACTIVE:
            return False
        if isinstance(item, Entitlement) and item.line_id is not None:
            return self.lines[item.line_id].state == ACTIVE
        return True

    def _state_for(self, item: Item, today: dt.date, suspended: set[UUID], covers: set[UUID]) -> ServiceState:
        if covers & suspended:
            return SUSPENDED
        if isinstance(item, Entitlement) and item.line_id and self.lines[item.line_id].state == SUSPENDED:
            return SUSPENDED  # it covers what its line covers, which is suspended
        if self.state == DRAFT:
            return DRAFT
        return self.state_by_dates(item, today)

    def _open_items(self) -> list[Item]:
        return [i for i in self.items() if i.state not in TERMINAL]

    def _open_entitlements_of(self, line_id: UUID) -> list[Entitlement]:
        return [e for e in self.entitlements.values() if e.line_id == line_id and e.state not in TERMINAL]

    def _suspend_if_covered(self, suspended: set[UUID], today: dt.date) -> None:
        for item in self.items():
            if item.state in (DRAFT, ACTIVE) and self.covered_by(item) & suspended:
                if isinstance(item, ContractLine):
                    self.record(ContractLineSuspended(contract_id=self.contract_id, line_id=item.line_id, effective_on=today))
                else:
                    self.record(EntitlementSuspended(contract_id=self.contract_id, entitlement_id=item.entitlement_id, effective_on=today))

    def _expire_line(self, line: ContractLine, on: dt.date) -> None:
        if line.state in TERMINAL:
            return
        self.record(ContractLineExpired(contract_id=self.contract_id, line_id=line.line_id, effective_on=on))
        for ent in self._open_entitlements_of(line.line_id):
            self._expire_entitlement(ent, on)

    def _expire_entitlement(self, ent: Entitlement, on: dt.date) -> None:
        if ent.state not in TERMINAL:
            self.record(EntitlementExpired(contract_id=self.contract_id, entitlement_id=ent.entitlement_id, effective_on=on))

    def _cancel_line(self, line: ContractLine, today: dt.date) -> None:
        if line.state in TERMINAL:
            return
        self.record(ContractLineCanceled(contract_id=self.contract_id, line_id=line.line_id, effective_on=today))
        for ent in self._open_entitlements_of(line.line_id):
            self._cancel_entitlement(ent, today)

    def _cancel_entitlement(self, ent: Entitlement, today: dt.date) -> None:
        if ent.state not in TERMINAL:
            self.record(EntitlementCanceled(contract_id=self.contract_id, entitlement_id=ent.entitlement_id, effective_on=today))

    # -- state, from events -----------------------------------------------------------------

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
        for name in ("name", "support_level", "sla", "features", "usage_limit", "usage_unit"):
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


def _check_order(start: dt.date, end: dt.date, field_name: str) -> None:
    if end < start:
        raise invalid(rules.DATES_END_BEFORE_START, f"end date {end} is before start date {start}", field_name)


def _check_within(item: Item, start: dt.date, end: dt.date, field_name: str, parent: str) -> None:
    if not (start <= item.start_date and item.end_date <= end):
        raise invalid(rules.DATES_CHILD_WITHIN_PARENT,
                      f"{item.kind} {item.item_id} ({item.start_date}..{item.end_date}) must lie within "
                      f"{parent}'s dates {start}..{end}", field_name)


def _check_within_dates(start: dt.date, end: dt.date, p_start: dt.date, p_end: dt.date, kind: str, parent: str) -> None:
    if not (p_start <= start and end <= p_end):
        raise invalid(rules.DATES_CHILD_WITHIN_PARENT,
                      f"the {kind}'s dates {start}..{end} must lie within {parent}'s dates {p_start}..{p_end}", "start_date")


def _item_field(item: Item) -> str:
    return f"lines.{item.line_id}" if isinstance(item, ContractLine) else f"entitlements.{item.entitlement_id}"
