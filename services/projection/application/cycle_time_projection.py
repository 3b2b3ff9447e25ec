"""clm's contract stream into the phase intervals of cycle-time analytics (adapters/cycle_times.py).

The boundaries, each at the event's time (docs/contracting/analytics.md, "Phases"):
- request: ContractRequested -> ContractDrafted
- drafting: ContractDrafted -> the first counter-version (ContractVersionAdded of version 2 or
  later) or the request sent to review (awaiting_review), whichever comes first; when neither
  comes, drafting runs to the approval's routing
- negotiation: from there -> ApprovalRouted (also re-entered by a rejected or invalidated round
  and by a new version after approval)
- approval: ApprovalRouted -> ApprovalCompleted
- signature: SignatureRequested -> ContractExecuted (a declined, expired or cancelled envelope ends it)
- activation: ContractExecuted -> ContractActivated (v1 or v2)
A cancelled request ends its open phase, which then counts in no cycle time."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.activation import ContractActivatedV2
from shared.events.approvals import ApprovalCompleted, ApprovalRejected, ApprovalRouted, ApprovalsInvalidated
from shared.events.contracts import ContractActivated, ContractDrafted, ContractRequested, ContractRequestStateChanged
from shared.events.envelope import Envelope
from shared.events.negotiation import ContractVersionAdded
from shared.events.signature import ContractExecuted, SignatureCanceled, SignatureExpired, SignatureRequested, SignerDeclined
from services.projection.adapters import cycle_times


def _entering(phase: str):
    async def handle(uow: UnitOfWork, envelope: Envelope) -> None:
        await cycle_times.enter(uow.conn, envelope.event.contract_id, phase, envelope.time)
    return handle


def _leaving(phase: str):
    async def handle(uow: UnitOfWork, envelope: Envelope) -> None:
        await cycle_times.leave(uow.conn, envelope.event.contract_id, phase, envelope.time)
    return handle


async def _version_added(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractVersionAdded = envelope.event
    if event.version_number >= 2:  # version 1 is the draft itself (recorded with ContractDrafted)
        await cycle_times.enter(uow.conn, event.contract_id, "negotiation", envelope.time)


async def _request_state_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractRequestStateChanged = envelope.event
    if event.to_state == "awaiting_review":
        await cycle_times.enter(uow.conn, event.contract_id, "negotiation", envelope.time)
    elif event.to_state == "cancelled":
        await cycle_times.cancel(uow.conn, event.contract_id, envelope.time)


HANDLERS: HandlerTable = {
    ContractRequested: _entering("request"),
    ContractDrafted: _entering("drafting"),
    ContractVersionAdded: _version_added,
    ContractRequestStateChanged: _request_state_changed,
    ApprovalRouted: _entering("approval"),
    ApprovalRejected: _entering("negotiation"),
    ApprovalsInvalidated: _entering("negotiation"),
    ApprovalCompleted: _leaving("approval"),
    SignatureRequested: _entering("signature"),
    SignerDeclined: _leaving("signature"),
    SignatureExpired: _leaving("signature"),
    SignatureCanceled: _leaving("signature"),
    ContractExecuted: _entering("activation"),
    ContractActivated: _leaving("activation"),
    ContractActivatedV2: _leaving("activation"),
}
