"""The service contract as a whole: drafted or recorded, its dates, its cancellation, time reaching
it, and the products its items cover being suspended or resumed."""

import datetime as dt
from dataclasses import replace
from typing import Iterable
from uuid import UUID

from shared.backbone.clock import is_time_zone
from shared.backbone.errors import ConflictingState, invalid
from shared.events.contracts import ContractActivated
from shared.events.orders import (
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)
from services.order_sync.domain import rules
from services.order_sync.domain.rules import TERMINAL
from services.order_sync.domain.service_contract.entitlements import EntitlementCommands
from services.order_sync.domain.service_contract.items import (
    ACTIVE, CANCELED, DRAFT, EXPIRED, SUSPENDED, ContractLine, Entitlement, check_order, check_within,
)
from services.order_sync.domain.service_contract.lines import LineCommands
from services.order_sync.domain.service_contract.renewal import RenewalCommands

DAY = dt.timedelta(days=1)


class ServiceContract(LineCommands, EntitlementCommands, RenewalCommands):
    stream_type = "service_contract"

    @classmethod
    def draft(
        cls, contract_id: UUID, *, number: str, account: str, start_date: dt.date, end_date: dt.date,
        time_zone: str = "UTC", lines: Iterable[ContractLine] = (), entitlements: Iterable[Entitlement] = (),
        suspended: set[UUID] = frozenset(),
    ) -> "ServiceContract":
        """A new contract in Draft. Children covering a suspended product start Suspended."""
        check_order(start_date, end_date, "end_date")
        if not is_time_zone(time_zone):
            raise invalid(rules.TIME_ZONE_UNKNOWN, f"{time_zone!r} is not an IANA time zone", "time_zone")
        draft = cls(str(contract_id))
        lines, entitlements = list(lines), list(entitlements)
        line_dates = {}
        for i, line in enumerate(lines):
            check_order(line.start_date, line.end_date, f"lines[{i}].end_date")
            check_within(line, start_date, end_date, f"lines[{i}]", "the contract")
            if line.line_id in line_dates:
                raise invalid(rules.ITEM_DUPLICATE_ID, f"line {line.line_id} appears twice", f"lines[{i}].line_id")
            line_dates[line.line_id] = line
        seen_entitlements = set()
        for i, ent in enumerate(entitlements):
            check_order(ent.start_date, ent.end_date, f"entitlements[{i}].end_date")
            check_within(ent, start_date, end_date, f"entitlements[{i}]", "the contract")
            if ent.line_id is not None:
                if ent.line_id not in line_dates:
                    raise invalid(rules.ENTITLEMENT_LINE_UNKNOWN, f"line {ent.line_id} is not on this contract",
                                  f"entitlements[{i}].line_id")
                parent = line_dates[ent.line_id]
                check_within(ent, parent.start_date, parent.end_date, f"entitlements[{i}]", "its line")
            if ent.entitlement_id in seen_entitlements:
                raise invalid(rules.ITEM_DUPLICATE_ID, f"entitlement {ent.entitlement_id} appears twice",
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

    def change_dates(self, start_date: dt.date, end_date: dt.date) -> None:
        self._refuse_if_terminal()
        check_order(start_date, end_date, "end_date")
        if self.state == ACTIVE:
            if start_date != self.start_date:
                raise ConflictingState(rules.ACTIVE_START_DATE_FROZEN, "an active contract's start date cannot change", "start_date")
            if end_date < self.end_date:
                raise ConflictingState(rules.ACTIVE_END_DATE_EXTEND_ONLY,
                                      f"an active contract's end date can only be extended beyond {self.end_date}", "end_date")
        for item in self._open_items():
            check_within(item, start_date, end_date, item.field_path, "the contract")
        if (start_date, end_date) != (self.start_date, self.end_date):
            self.record(ServiceContractDatesChanged(contract_id=self.contract_id, start_date=start_date, end_date=end_date))

    def cancel(self, today: dt.date, reason: str = "") -> None:
        # Allowed with Suspended children: the contract itself is never Suspended, and its formal
        # cancellation ends everything under it, as its expiry does ("cascades go down").
        self._refuse_if_terminal()
        self.record(ServiceContractCanceled(contract_id=self.contract_id, effective_on=today, reason=reason))
        for item in self.items():
            self._end(item, CANCELED, today)

    def reach(self, today: dt.date) -> None:
        """Applies what the dates say on `today`: activations on start dates, expiries after end
        dates, the contract's expiry cascading to its children. Reaching a date twice changes nothing."""
        if self.state in TERMINAL:
            return
        if self.state == DRAFT and self.start_date <= today:
            self.record(ServiceContractActivated(contract_id=self.contract_id, effective_on=self.start_date))
        if self.state == ACTIVE:
            for item in self.items():
                if item.state == DRAFT and item.start_date <= today and self._parent_open(item):
                    self.record(item.entered_event(ACTIVE, self.contract_id, item.start_date))
        if self.end_date < today:
            self.record(ServiceContractExpired(contract_id=self.contract_id, effective_on=self.end_date + DAY))
            for item in self.items():
                self._end(item, EXPIRED, self.end_date + DAY)
            return
        for item in self.items():
            if item.end_date < today:
                self._end(item, EXPIRED, item.end_date + DAY)

    def suspend_covering(self, product_id: UUID, today: dt.date) -> None:
        """A covered product was suspended: its Draft/Active lines and entitlements follow."""
        self._suspend_if_covered({product_id}, today)

    def resume_covering(self, product_id: UUID, today: dt.date, still_suspended: set[UUID] = frozenset()) -> None:
        """A covered product was resumed: each item it held suspended (and nothing else holds)
        takes the state its dates give today."""
        for item in self.items():
            covered = self.covered_by(item)
            if item.state == SUSPENDED and product_id in covered and not (covered & still_suspended):
                self.record(item.resumed_event(self.contract_id, today, self.state_by_dates(item, today)))
