"""A contract's reconciliation: its events say each difference found that was not there at the
previous check (ReconciliationMismatch) and each time signed and active agree again
(ContractReconciled). What the previous check found is given by the caller (the reconciliation
row, written in the same transaction), so a difference that persists is never announced twice."""

import datetime as dt
from enum import StrEnum
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.events.reconciliation import ContractReconciled, Difference, ReconciliationMismatch


class ReconciliationState(StrEnum):
    PENDING = "pending"  # nothing active to compare with yet (no service contract, or its order is being fulfilled)
    RECONCILED = "reconciled"
    MISMATCHED = "mismatched"


PENDING, RECONCILED, MISMATCHED = ReconciliationState.PENDING, ReconciliationState.RECONCILED, ReconciliationState.MISMATCHED


def identity(difference: Difference) -> tuple:
    """A difference is the same while the item's field has the same two values."""
    return (difference.kind, difference.item, difference.field, difference.signed, difference.active)


def stream_id(contract_id: UUID) -> str:
    """The contract's service contract has the contract's id as its stream: this stream is named apart."""
    return f"reconciliation-{contract_id}"


class Reconciliation(Aggregate):
    stream_type = "reconciliation"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.reconciled = False

    @classmethod
    def of(cls, contract_id: UUID) -> "Reconciliation":
        return cls(stream_id(contract_id))

    @property
    def contract_id(self) -> UUID:
        return UUID(self.id.removeprefix("reconciliation-"))

    def checked(self, differences: list[Difference], previous: list[Difference], at: dt.datetime) -> ReconciliationState:
        """Records what this check found that the previous one did not; returns the state."""
        if not differences:
            if not self.reconciled:
                self.record(ContractReconciled(contract_id=self.contract_id, reconciled_at=at))
            return RECONCILED
        known = {identity(d) for d in previous}
        for difference in differences:
            if identity(difference) not in known:
                self.record(ReconciliationMismatch(contract_id=self.contract_id, difference=difference, detected_at=at))
        return MISMATCHED

    @applies
    def _on_mismatch(self, event: ReconciliationMismatch) -> None:
        self.reconciled = False

    @applies
    def _on_reconciled(self, event: ContractReconciled) -> None:
        self.reconciled = True
