"""The contract as Legal and the contract manager see it: requested (intake.py), drafted
(drafting.py, from a template), negotiated in versions (negotiation.py), approved (approval.py),
signed and executed (signature.py), then activated. One aggregate, one stream from the request on (docs/design/contracting.md); each
concept is a module whose class is a base of the next, so every handler is in one table."""

import datetime as dt
from enum import StrEnum
from uuid import UUID

from shared.backbone.aggregate import applies
from shared.backbone.clock import EARLIEST_DATE, LATEST_DATE, is_plannable, is_time_zone
from shared.backbone.errors import ConflictingState, invalid
from shared.events.contracts import ContractActivated, ContractDrafted, Party
from services.clm.domain import rules
from services.clm.domain.contract.signature import Signing


class ContractState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"


class Contract(Signing):
    stream_type = "contract"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.state: ContractState | None = None
        self.terms: ContractDrafted | None = None

    @classmethod
    def draft(
        cls,
        contract_id: UUID,
        *,
        number: str,
        title: str,
        contract_model: str,
        parties: list[Party],
        start_date: dt.date,
        end_date: dt.date,
        time_zone: str = "UTC",
    ) -> "Contract":
        for name, date in (("start_date", start_date), ("end_date", end_date)):
            if not is_plannable(date):
                raise invalid(rules.DATES_OUT_OF_RANGE, f"{date} lies outside {EARLIEST_DATE}..{LATEST_DATE}", field=name)
        if end_date < start_date:
            raise invalid(rules.DATES_END_BEFORE_START, "the end date must not be before the start date", field="end_date")
        if not any(p.role == "customer" for p in parties):
            raise invalid(rules.CONTRACT_CUSTOMER_REQUIRED, "a contract needs a party with the role customer", field="parties")
        if not is_time_zone(time_zone):
            raise invalid(rules.TIME_ZONE_UNKNOWN, f"{time_zone!r} is not an IANA time zone", field="time_zone")
        contract = cls(str(contract_id))
        contract.record(
            ContractDrafted(
                contract_id=contract_id, number=number, title=title, contract_model=contract_model,
                parties=parties, start_date=start_date, end_date=end_date, time_zone=time_zone,
            )
        )
        return contract

    def activate(self) -> None:
        if self.state is not ContractState.DRAFT:
            raise ConflictingState(rules.ACTIVATE_ONLY_FROM_DRAFT, f"a contract in state {self.state} cannot be activated", field="state")
        self.record(ContractActivated(**self.terms.model_dump()))

    @applies
    def _on_contract_drafted(self, event: ContractDrafted) -> None:
        self.state = ContractState.DRAFT
        self.terms = event

    @applies
    def _on_contract_activated(self, event: ContractActivated) -> None:
        self.state = ContractState.ACTIVE
