"""Signature and execution (phase 5): an envelope for the approved version, its signers in
routing order, built-in signing or a provider's, and execution into the signed copy.
docs/design/approvals_and_signature.md, "Signature".

The interface activation reads: `executed` (the ContractExecuted, None before)."""

from shared.backbone.aggregate import applies
from shared.events.signature import ContractExecuted
from services.clm.domain.contract.approval import Approving


class Signing(Approving):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.executed: ContractExecuted | None = None

    @applies
    def _on_contract_executed(self, event: ContractExecuted) -> None:
        self.executed = event
