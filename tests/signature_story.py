"""A contract brought to `awaiting_signature` with its version 1 approved, on the aggregate alone:
submitted with the standard matrix and each open step granted by its approver's role."""

import datetime as dt
import uuid

from services.clm.domain.approval_matrix import standard_matrix
from shared.events.signature import Signer
from services.clm.domain.contract.intake import RequestState
from tests.unit.test_drafting_and_negotiation import drafted

AT = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def approve(contract, *, at: dt.datetime = AT, version_number: int = 1) -> None:
    """Submits the current version (`version_number`) and grants every step, sequence by sequence:
    the request ends awaiting_signature with that version approved."""
    assert len(contract.versions) == version_number, "the version approved is the current one"
    if contract.request_state is not RequestState.WORK_IN_PROGRESS:
        contract._move(RequestState.WORK_IN_PROGRESS, "counsel-lena", at, "test")
    contract.submit_for_approval(standard_matrix(at), by="sales-ann", at=at)
    while contract.request_state is RequestState.AWAITING_APPROVAL:
        step = next(s for s in contract.steps.values() if s.state == "open")
        role = step.approvers[0].value
        contract.approve(step.routed.step_id, by=f"{role}-approver", roles=frozenset({role}), comment="", at=at)


def awaiting_signature(**deal):
    contract = drafted(**deal)
    approve(contract)
    contract.mark_persisted()
    return contract


def signer(name: str, order: int = 1, role: str = "customer", email: str | None = None) -> Signer:
    return Signer(signer_id=uuid.uuid5(uuid.NAMESPACE_URL, name), name=name, role=role, routing_order=order,
                  email=email or f"{name.lower().replace(' ', '.')}@example.com")
