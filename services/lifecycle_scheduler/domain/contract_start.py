"""An executed contract's start date as time announces it: the start of that day in the contract's
zone (the first day in force, as activation_instant reads it), announced once per contract
(ContractStartReached); at once when that instant lies in the past at execution. clm checks
order readiness and activates."""

import datetime as dt
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.contract_starts import ContractStartReached
from services.lifecycle_scheduler.domain.schedule import activation_instant


def start_instant(start_date: dt.date, time_zone: str) -> dt.datetime:
    return activation_instant(start_date, time_zone)


class ContractStart(Aggregate):
    stream_type = "contract_start"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reached = False

    @staticmethod
    def stream_id(contract_id: UUID) -> str:
        # Not str(contract_id): the legal contract's ContractSchedule has that stream.
        return f"contract-start:{contract_id}"

    @classmethod
    def for_contract(cls, contract_id: UUID) -> "ContractStart":
        return cls(cls.stream_id(contract_id))

    @property
    def contract_id(self) -> UUID:
        return UUID(self.id.split(":", 1)[1])

    def reach(self, start_date: dt.date, time_zone: str) -> bool:
        """Once per contract: an executed contract starts once."""
        if self.reached:
            return False
        self.record(ContractStartReached(contract_id=self.contract_id, start_date=start_date, time_zone=time_zone,
                                         reached_at=start_instant(start_date, time_zone)))
        return True

    @applies
    def _on_reached(self, event: ContractStartReached) -> None:
        self.reached = True
