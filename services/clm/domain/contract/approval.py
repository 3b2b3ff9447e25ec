"""Internal approvals (phase 4): routing a version through the approval matrix's steps, grants
and rejections, SLA warnings and escalation, invalidation by a new version.
docs/design/approvals_and_signature.md, "Approvals".

The interface the next phases read: `approved_version` (the version an envelope may be sent for,
None while nothing is approved)."""

from shared.backbone.aggregate import applies
from shared.events.approvals import ApprovalCompleted, ApprovalRejected, ApprovalsInvalidated
from services.clm.domain.contract.drafting import Drafting


class Approving(Drafting):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.approved_version: int | None = None

    @applies
    def _on_approval_completed(self, event: ApprovalCompleted) -> None:
        self.approved_version = event.version_number

    @applies
    def _on_approvals_invalidated(self, event: ApprovalsInvalidated) -> None:
        self.approved_version = None

    @applies
    def _on_approval_rejected(self, event: ApprovalRejected) -> None:
        self.approved_version = None
