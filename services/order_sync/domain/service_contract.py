"""Commerce's service contract, recorded from the activated legal contract.

Thin for now: lines, entitlements and sold products arrive with the service contract life cycle.
"""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events import ContractActivated, ServiceContractRecorded


class ServiceContract(Aggregate):
    stream_type = "service_contract"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.number = ""
        self.account = ""
        self.start_date: dt.date | None = None
        self.end_date: dt.date | None = None

    @classmethod
    def record_from(cls, activated: ContractActivated) -> "ServiceContract":
        customer = next(p.name for p in activated.parties if p.role == "customer")
        contract = cls(str(activated.contract_id))
        contract.record(
            ServiceContractRecorded(
                contract_id=activated.contract_id, number=activated.number, account=customer,
                start_date=activated.start_date, end_date=activated.end_date,
            )
        )
        return contract

    @applies
    def _on_service_contract_recorded(self, event: ServiceContractRecorded) -> None:
        self.number, self.account = event.number, event.account
        self.start_date, self.end_date = event.start_date, event.end_date

    @property
    def contract_id(self) -> UUID:
        return UUID(self.id)
