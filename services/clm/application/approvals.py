"""Use cases of internal approvals (phase 4): the approval matrices, submitting a contract for
approval, approving and rejecting a step, the approvers' queue, and the scheduler's SLA events.
Each runs in one unit of work: load, decide, append, the query tables (`uow.views.approvals`,
`uow.views.requests`) in the same commit.

The standard matrix (domain/approval_matrix.py, STANDARD_MATRIX_ID) is written the first time
anything reads it, so a contract is routed out of the box; a contract manager publishes new
versions of it (or other matrices, chosen at submission) through the API."""

import datetime as dt
from uuid import UUID

from shared.backbone.errors import AlreadyExists
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached
from shared.events.approvals import ApprovalRule
from shared.events.envelope import Envelope
from services.clm.application.contract_requests import _require_request, commit, save_requests
from services.clm.domain import rules
from services.clm.domain.approval_matrix import STANDARD_MATRIX_ID, ApprovalMatrix, standard_matrix
from services.clm.domain.contract import Contract
from services.clm.domain.contract.approval import approver_keys

MATRIX = "approval_matrix"


async def _matrix(uow: UnitOfWork, matrix_id: UUID, at: dt.datetime, expected_version: int | None = None) -> ApprovalMatrix:
    if matrix_id == STANDARD_MATRIX_ID and await uow.get(ApprovalMatrix, str(matrix_id)) is None:
        matrix = standard_matrix(at)
        uow.add(matrix)
        await uow.views.approvals.save_matrix(matrix)
    return await uow.require(ApprovalMatrix, str(matrix_id), MATRIX, expected_version)


# -- matrices ---------------------------------------------------------------------------------------

@created_once
async def create_matrix(uow: UnitOfWork, matrix_id: UUID, *, name: str, rules_: list[ApprovalRule], by: str,
                        at: dt.datetime) -> tuple[ApprovalMatrix, bool]:
    """Version 1 of a new matrix. Returns (matrix, created): the same request retried is harmless."""
    async with uow:
        requested = ApprovalMatrix.create(matrix_id, name=name, rules_=rules_, by=by, at=at)
        existing = await uow.get(ApprovalMatrix, str(matrix_id))
        if existing is not None:
            if existing.versions[0].name == name and existing.versions[0].rules == rules_:
                return existing, False
            raise AlreadyExists(MATRIX, matrix_id, field="matrix_id",
                                message=f"matrix {matrix_id} exists: publish a new version of it instead")
        uow.add(requested)
        await uow.views.approvals.save_matrix(requested)
        await uow.commit()
        return requested, True


@created_once
async def publish_matrix_version(uow: UnitOfWork, matrix_id: UUID, expected_version: int | None, *, name: str,
                                 rules_: list[ApprovalRule], by: str, at: dt.datetime) -> ApprovalMatrix:
    """A new version; contracts routed before keep theirs. The same terms as the latest change nothing."""
    async with uow:
        matrix = await _matrix(uow, matrix_id, at, expected_version)
        if not matrix.same_terms(name, rules_):
            matrix.publish(name=name, rules_=rules_, by=by, at=at)
        await uow.views.approvals.save_matrix(matrix)
        await uow.commit()
        return matrix


@created_once  # the standard matrix's first write may race another reader's
async def get_matrix(uow: UnitOfWork, matrix_id: UUID, at: dt.datetime) -> ApprovalMatrix:
    async with uow:
        matrix = await _matrix(uow, matrix_id, at)
        await uow.commit()  # the standard matrix, written on first read
        return matrix


@created_once
async def list_matrices(uow: UnitOfWork, *, after: UUID | None, limit: int, at: dt.datetime) -> list[dict]:
    async with uow:
        await _matrix(uow, STANDARD_MATRIX_ID, at)
        rows = await uow.views.approvals.matrices(after=after, limit=limit)
        await uow.commit()
        return rows


# -- a contract's approvals -----------------------------------------------------------------------

async def submit_for_approval(uow: UnitOfWork, contract_id: UUID, *, matrix_id: UUID | None, by: str,
                              at: dt.datetime, at_risk_fraction: float, expected_version: int | None = None) -> Contract:
    async with uow:
        contract = await _require_request(uow, contract_id, expected_version)
        matrix = await _matrix(uow, matrix_id or STANDARD_MATRIX_ID, at)
        contract.submit_for_approval(matrix, by=by, at=at, at_risk_fraction=at_risk_fraction)
        await commit(uow)
        return contract


async def decide(uow: UnitOfWork, contract_id: UUID, step_id: UUID, *, grant: bool, by: str, roles: frozenset[str],
                 comment: str, at: dt.datetime, at_risk_fraction: float, expected_version: int | None = None) -> Contract:
    async with uow:
        contract = await _require_request(uow, contract_id, expected_version)
        if grant:
            contract.approve(step_id, by=by, roles=roles, comment=comment, at=at, at_risk_fraction=at_risk_fraction)
        else:
            contract.reject(step_id, by=by, roles=roles, comment=comment, at=at)
        await commit(uow)
        return contract


async def get_approvals(uow: UnitOfWork, contract_id: UUID) -> Contract:
    async with uow:
        return await _require_request(uow, contract_id)


async def pending_for(uow: UnitOfWork, *, subject: str, roles: frozenset[str], role: str | None,
                      after: UUID | None, limit: int) -> list[dict]:
    """The caller's queue: open steps naming them or one of their roles (`role`: only that one of
    theirs), never of requests they made or submitted (they may not decide those)."""
    keys = [f"role:{role}"] if role is not None else sorted(approver_keys(subject, roles & rules.APPROVING_ROLES))
    async with uow:
        return await uow.views.approvals.pending(keys=keys, excluding=subject, after=after, limit=limit)


# -- the scheduler's SLA events (lifecycle_scheduler.approval_deadlines.v1) ------------------------------

async def step_at_risk(uow: UnitOfWork, envelope: Envelope) -> None:
    """ApprovalStepAtRiskReached: ApprovalAtRisk if the step is still open at that level, once."""
    reached: ApprovalStepAtRiskReached = envelope.event
    contract = await uow.get(Contract, str(reached.contract_id))
    if contract is not None:
        contract.step_at_risk(reached.step_id, level=reached.level, at=reached.reached_at)
        await save_requests(uow)


async def step_deadline_reached(uow: UnitOfWork, envelope: Envelope) -> None:
    """ApprovalStepDeadlineReached: escalated to the next level (a new ApprovalStepOpened), once."""
    reached: ApprovalStepDeadlineReached = envelope.event
    contract = await uow.get(Contract, str(reached.contract_id))
    if contract is not None:
        contract.step_deadline_reached(reached.step_id, level=reached.level, at=reached.reached_at)
        await save_requests(uow)
