"""A contract brought to `awaiting_signature` with its version 1 approved, on the aggregate alone:
what the approvals part does, recorded directly (ApprovalCompleted and the state moves)."""

import datetime as dt
import uuid

from shared.events.approvals import ApprovalCompleted
from shared.events.signature import Signer
from services.clm.domain.contract.intake import RequestState
from tests.unit.test_drafting_and_negotiation import drafted

AT = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def approve(contract, *, at: dt.datetime = AT, version_number: int = 1) -> None:
    """Records what approvals records on completion: the request awaiting_approval, the version
    approved, the request awaiting_signature."""
    if contract.request_state is RequestState.WORK_IN_PROGRESS:
        contract._move(RequestState.AWAITING_APPROVAL, "counsel-lena", at, "test")
    contract.record(ApprovalCompleted(contract_id=contract.contract_uuid, round=1, version_number=version_number, at=at))
    contract._move(RequestState.AWAITING_SIGNATURE, "approvals", at, "test")


def awaiting_signature(**deal):
    contract = drafted(**deal)
    approve(contract)
    contract.mark_persisted()
    return contract


def signer(name: str, order: int = 1, role: str = "customer", email: str | None = None) -> Signer:
    return Signer(signer_id=uuid.uuid5(uuid.NAMESPACE_URL, name), name=name, role=role, routing_order=order,
                  email=email or f"{name.lower().replace(' ', '.')}@example.com")
