"""Approvals' use cases (application/approvals.py) on the in-memory unit of work: the standard
matrix written on first use, matrices versioned and pinned by the contracts routed with them, the
approvers' queue following the steps, the scheduler's SLA events taking effect once."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from shared.backbone.errors import DomainError
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached
from shared.events.approvals import ApprovalRule, ApprovalStepSpec, Approver
from shared.events.envelope import Envelope
from services.clm.adapters.memory_views import MemoryViews
from services.clm.application import approvals as use_cases
from services.clm.application.contract_requests import save_requests
from services.clm.domain.approval_matrix import STANDARD_MATRIX_ID, STANDARD_RULES
from services.clm.domain.contract import Contract
from tests.events_factory import approved_quote
from tests.unit.test_drafting_and_negotiation import AT, CAP, LIABILITY, TEMPLATE, clause, document

LEGAL = frozenset({"legal_counsel"})
FRACTION = 0.75


@pytest.fixture
def new_uow():
    store = MemoryEventStore()
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


def drafted(**deal) -> Contract:
    """A request from a quote drafted from a template, its events not yet stored."""
    contract = Contract.request_from_quote(approved_quote(**deal))
    contract.draft_from_template(template=TEMPLATE, vendor="Initech", start_date=dt.date(2027, 1, 1), variables={},
                                 clauses=[clause("1", LIABILITY)], terms=CAP, document=document(1), by="counsel-lena",
                                 at=AT)
    return contract


async def stored(new_uow, contract: Contract) -> uuid.UUID:
    async with new_uow() as uow:
        uow.add(contract)
        await save_requests(uow)
        await uow.commit()
    return contract.contract_uuid


async def submit(new_uow, contract_id, matrix_id=None) -> Contract:
    return await use_cases.submit_for_approval(new_uow(), contract_id, matrix_id=matrix_id, by="cm-carla", at=AT,
                                               at_risk_fraction=FRACTION)


async def test_the_standard_matrix_routes_out_of_the_box_and_is_listed(new_uow):
    contract_id = await stored(new_uow, drafted(deal_size=Decimal("300000")))
    contract = await submit(new_uow, contract_id)
    assert (contract.route.matrix_id, contract.route.matrix_version) == (STANDARD_MATRIX_ID, 1)
    [row] = await use_cases.list_matrices(new_uow(), after=None, limit=10, at=AT)
    assert (row["matrix_id"], row["latest_version"]) == (STANDARD_MATRIX_ID, 1)


async def test_a_new_matrix_version_routes_later_contracts_and_earlier_ones_keep_theirs(new_uow):
    first = await submit(new_uow, await stored(new_uow, drafted()))
    only_finance = [ApprovalRule(rule_id="finance", name="Finance", condition="", steps=[ApprovalStepSpec(
        name="Finance review", sequence=1, approvers=[Approver(kind="role", value="finance")], sla="P1D")])]
    matrix = await use_cases.publish_matrix_version(new_uow(), STANDARD_MATRIX_ID, 1, name="Finance only",
                                                    rules_=only_finance, by="cm-carla", at=AT)
    assert matrix.latest.version == 2
    second = await submit(new_uow, await stored(new_uow, drafted()))
    assert [s.routed.name for s in second.steps.values()] == ["Finance review"] and second.route.matrix_version == 2
    again = await use_cases.get_approvals(new_uow(), first.contract_uuid)
    assert [s.routed.name for s in again.steps.values()] == ["Legal review"] and again.route.matrix_version == 1
    with pytest.raises(DomainError) as stale:
        await use_cases.publish_matrix_version(new_uow(), STANDARD_MATRIX_ID, 1, name="x", rules_=STANDARD_RULES,
                                               by="cm-carla", at=AT)
    assert stale.value.rule == "stream.version_conflict"


async def test_a_matrix_create_is_idempotent_by_id(new_uow):
    matrix_id = uuid.uuid4()
    _, created = await use_cases.create_matrix(new_uow(), matrix_id, name="M", rules_=STANDARD_RULES, by="cm", at=AT)
    _, again = await use_cases.create_matrix(new_uow(), matrix_id, name="M", rules_=STANDARD_RULES, by="cm", at=AT)
    assert (created, again) == (True, False)
    with pytest.raises(DomainError) as taken:
        await use_cases.create_matrix(new_uow(), matrix_id, name="Other", rules_=STANDARD_RULES, by="cm", at=AT)
    assert taken.value.rule == "approval_matrix.already_exists"


async def test_the_queue_shows_open_steps_to_their_approvers_but_never_to_the_requester(new_uow):
    contract_id = await stored(new_uow, drafted(deal_size=Decimal("300000")))
    contract = await submit(new_uow, contract_id)
    legal, finance = list(contract.steps)

    async def queue(subject, roles, role=None):
        rows = await use_cases.pending_for(new_uow(), subject=subject, roles=frozenset(roles), role=role, after=None,
                                           limit=10)
        return [r["step_id"] for r in rows]

    assert await queue("counsel-lena", {"legal_counsel"}) == [legal]
    assert await queue("fin-fred", {"finance"}) == [finance]
    assert await queue("sales-bob", {"sales"}) == []
    assert await queue("cm-carla", {"legal_counsel"}) == []  # submitted it
    assert await queue("anyone", {"sales"}, role="finance") == [finance]
    await use_cases.decide(new_uow(), contract_id, legal, grant=True, by="counsel-lena", roles=LEGAL, comment="",
                           at=AT, at_risk_fraction=FRACTION)
    assert await queue("counsel-lena", {"legal_counsel"}) == []


async def test_sla_events_take_effect_once_however_often_they_arrive(new_uow):
    contract_id = await stored(new_uow, drafted())
    contract = await submit(new_uow, contract_id)
    [step] = contract.steps.values()
    due = step.due_at
    risk = ApprovalStepAtRiskReached(step_id=step.routed.step_id, contract_id=contract_id, level=0, due_at=due,
                                     reached_at=step.at_risk_at)
    deadline = ApprovalStepDeadlineReached(step_id=step.routed.step_id, contract_id=contract_id, level=0, due_at=due,
                                           reached_at=due)
    for handler, event in [(use_cases.step_at_risk, risk)] * 2 + [(use_cases.step_deadline_reached, deadline)] * 2:
        async with new_uow() as uow:
            await handler(uow, Envelope(event, 1))
            await uow.commit()
    contract = await use_cases.get_approvals(new_uow(), contract_id)
    step = contract.steps[step.routed.step_id]
    assert (step.level, len(step.escalations), step.due_at) == (1, 1, due + dt.timedelta(days=2))
    [row] = await use_cases.pending_for(new_uow(), subject="vp-vera", roles=frozenset({"sales_leadership"}), role=None,
                                        after=None, limit=10)
    assert (row["level"], row["approvers"]) == (1, ["role:sales_leadership"])
