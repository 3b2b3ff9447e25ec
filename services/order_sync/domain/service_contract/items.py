"""A service contract's lines and entitlements, the events of their own transitions, and the date
rules every item obeys."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Self, Union
from uuid import UUID

from shared.backbone.clock import EARLIEST_DATE, LATEST_DATE, is_plannable
from shared.backbone.errors import invalid
from shared.events.base import Event
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineCanceled,
    ContractLineExpired,
    ContractLineResumed,
    ContractLineSuspended,
    ContractLineTerms,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementExpired,
    EntitlementResumed,
    EntitlementSuspended,
    EntitlementTerms,
    ServiceState,
)
from services.order_sync.domain import rules

DRAFT, ACTIVE, SUSPENDED = ServiceState.DRAFT, ServiceState.ACTIVE, ServiceState.SUSPENDED
EXPIRED, CANCELED = ServiceState.EXPIRED, ServiceState.CANCELED


class _Item:
    """What lines and entitlements share. `kind` names the item in messages, fields and events."""

    kind: ClassVar[str]
    record: ClassVar[str]
    terms_type: ClassVar[type[ContractLineTerms | EntitlementTerms]]
    added: ClassVar[type[Event]]
    entered: ClassVar[dict[ServiceState, type[Event]]]  # the event of entering each state
    resumed: ClassVar[type[Event]]
    sold_product_id: UUID | None
    install_base_item_id: UUID | None

    @property
    def item_id(self) -> UUID:
        return getattr(self, f"{self.kind}_id")

    @property
    def field_path(self) -> str:
        """Where a refusal about this item points: lines.<id> or entitlements.<id>."""
        return f"{self.kind}s.{self.item_id}"

    @property
    def parent_line_id(self) -> UUID | None:
        return None

    @property
    def own_covers(self) -> set[UUID]:
        return {p for p in (self.sold_product_id, self.install_base_item_id) if p}

    def holds(self, entitlement: "Entitlement") -> bool:
        """Whether the entitlement is attached to this item (only lines hold entitlements)."""
        return False

    def terms(self) -> ContractLineTerms | EntitlementTerms:
        return self.terms_type(**self.__dict__)

    @classmethod
    def of(cls, terms: ContractLineTerms | EntitlementTerms) -> Self:
        return cls(**terms.model_dump())

    def added_event(self, contract_id: UUID) -> Event:
        return self.added(contract_id=contract_id, **{self.kind: self.terms()})

    def entered_event(self, state: ServiceState, contract_id: UUID, on: dt.date) -> Event:
        return self.entered[state](contract_id=contract_id, effective_on=on, **self._named())

    def resumed_event(self, contract_id: UUID, on: dt.date, state: ServiceState) -> Event:
        return self.resumed(contract_id=contract_id, effective_on=on, state=state, **self._named())

    def _named(self) -> dict[str, UUID]:
        return {f"{self.kind}_id": self.item_id}  # line_id= or entitlement_id=


@dataclass
class ContractLine(_Item):
    line_id: UUID
    product: str
    quantity: int
    unit_price: Decimal
    start_date: dt.date
    end_date: dt.date
    sold_product_id: UUID | None = None
    install_base_item_id: UUID | None = None
    state: ServiceState = DRAFT

    kind, terms_type, added = "line", ContractLineTerms, ContractLineAdded
    record = "contract_line"  # as rules name it: contract_line.not_found, contract_line.already_exists
    entered = {ACTIVE: ContractLineActivated, SUSPENDED: ContractLineSuspended,
               EXPIRED: ContractLineExpired, CANCELED: ContractLineCanceled}
    resumed = ContractLineResumed

    @property
    def covers(self) -> set[UUID]:
        """What the line covers; its entitlements cover it too."""
        return self.own_covers

    def holds(self, entitlement: "Entitlement") -> bool:
        return entitlement.line_id == self.line_id


@dataclass
class Entitlement(_Item):
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

    kind, terms_type, added = "entitlement", EntitlementTerms, EntitlementAdded
    record = "entitlement"
    entered = {ACTIVE: EntitlementActivated, SUSPENDED: EntitlementSuspended,
               EXPIRED: EntitlementExpired, CANCELED: EntitlementCanceled}
    resumed = EntitlementResumed
    edited_fields = ("name", "support_level", "sla", "features", "usage_limit", "usage_unit")

    @property
    def parent_line_id(self) -> UUID | None:
        return self.line_id


Item = Union[ContractLine, Entitlement]


def check_order(start: dt.date, end: dt.date, field_name: str) -> None:
    for date in (start, end):
        if not is_plannable(date):
            raise invalid(rules.DATES_OUT_OF_RANGE, f"{date} lies outside {EARLIEST_DATE}..{LATEST_DATE}", field_name)
    if end < start:
        raise invalid(rules.DATES_END_BEFORE_START, f"end date {end} is before start date {start}", field_name)


def check_within(item: Item, start: dt.date, end: dt.date, field_name: str, parent: str) -> None:
    if not (start <= item.start_date and item.end_date <= end):
        raise invalid(rules.DATES_CHILD_WITHIN_PARENT,
                      f"{item.kind} {item.item_id} ({item.start_date}..{item.end_date}) must lie within "
                      f"{parent}'s dates {start}..{end}", field_name)


def check_within_dates(start: dt.date, end: dt.date, p_start: dt.date, p_end: dt.date, kind: str, parent: str) -> None:
    if not (p_start <= start and end <= p_end):
        raise invalid(rules.DATES_CHILD_WITHIN_PARENT,
                      f"the {kind}'s dates {start}..{end} must lie within {parent}'s dates {p_start}..{p_end}", "start_date")
