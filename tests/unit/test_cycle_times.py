"""Which of clm's contract events bound which phase (application/cycle_time_projection.py), pure:
the adapter's writes are recorded instead of run. The SQL (first entry, last exit, percentiles) is
checked on PostgreSQL in tests/integration/test_analytics.py."""

import datetime as dt
import uuid

import pytest

from services.projection.application import cycle_time_projection
from shared.backbone.event_routing import dispatcher
from shared.events.activation import ContractActivatedV2
from shared.events.approvals import ApprovalCompleted, ApprovalRejected, ApprovalRouted, ApprovalsInvalidated
from shared.events.contracts import ContractActivated, ContractDrafted, ContractRequested, ContractRequestStateChanged
from shared.events.envelope import Envelope
from shared.events.negotiation import ContractVersionAdded, DeviationFlagged
from shared.events.signature import ContractExecuted, SignatureCanceled, SignatureExpired, SignatureRequested, SignerDeclined
from tests.unit.test_event_contracts import SAMPLES

C = uuid.UUID(int=99)
T = dt.datetime(2027, 1, 31, 23, 30, tzinfo=dt.UTC)


class Recorder:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        async def record(conn, contract_id, *args, **kwargs):
            self.calls.append((name, *args[:-1]) if name != "cancel" else (name,))
            assert contract_id == C and args[-1] == T
        return record


@pytest.fixture
def calls(monkeypatch):
    recorder = Recorder()
    for name in ("enter", "leave", "cancel"):
        monkeypatch.setattr(cycle_time_projection.cycle_times, name, getattr(recorder, name))
    return recorder.calls


class Uow:
    conn = None


async def apply(*events) -> None:
    project = dispatcher(cycle_time_projection.HANDLERS)
    for event in events:
        await project(Uow(), Envelope(event.model_copy(update={"contract_id": C}), 1, time=T))


def sample(event_type, **changes):
    return SAMPLES[event_type].model_copy(update=changes)


def state(to: str):
    return ContractRequestStateChanged(contract_id=C, from_state="work_in_progress", to_state=to, by="x", at=T)


async def test_the_happy_path_enters_each_phase_in_turn(calls):
    await apply(sample(ContractRequested), sample(ContractDrafted), sample(ContractVersionAdded, version_number=1),
                sample(ContractVersionAdded, version_number=2), sample(ApprovalRouted), sample(ApprovalCompleted),
                sample(SignatureRequested), sample(ContractExecuted), sample(ContractActivatedV2))
    assert calls == [("enter", "request"), ("enter", "drafting"), ("enter", "negotiation"), ("enter", "approval"),
                     ("leave", "approval"), ("enter", "signature"), ("enter", "activation"), ("leave", "activation")]


async def test_review_starts_negotiation_and_other_request_states_change_nothing(calls):
    await apply(state("awaiting_review"), state("work_in_progress"), state("awaiting_approval"), state("awaiting_signature"))
    assert calls == [("enter", "negotiation")]


async def test_a_rejected_or_invalidated_round_goes_back_to_negotiation(calls):
    await apply(sample(ApprovalRejected), sample(ApprovalsInvalidated))
    assert calls == [("enter", "negotiation")] * 2


async def test_an_envelope_declined_expired_or_canceled_ends_the_signature(calls):
    await apply(sample(SignerDeclined), sample(SignatureExpired), sample(SignatureCanceled))
    assert calls == [("leave", "signature")] * 3


async def test_activation_v1_ends_it_too_and_a_cancellation_cancels(calls):
    await apply(sample(ContractActivated), state("cancelled"))
    assert calls == [("leave", "activation"), ("cancel",)]


async def test_events_that_bound_no_phase_are_not_handled():
    assert DeviationFlagged not in cycle_time_projection.HANDLERS
    assert {e.topic for e in cycle_time_projection.HANDLERS} == {"clm.contracts.v1"}  # one stream, in order


def test_the_csv_export_keeps_titles_from_becoming_formulas():
    import csv
    import io

    from services.projection.api.analytics import bottlenecks_csv

    row = {"phase": "approval", "open": 1, "median_age_hours": -0.5, "longest_waiting": [{
        "contract_id": C, "number": "CNT-1", "title": '=HYPERLINK("http://evil","x")', "assignee": "@lea",
        "assignee_role": None, "queue": None, "since": T, "age_hours": 2.5}]}
    (line,) = csv.DictReader(io.StringIO(bottlenecks_csv([row]).body.decode()))
    assert line["title"] == '\'=HYPERLINK("http://evil","x")' and line["assignee"] == "'@lea"
    assert (line["median_age_hours"], line["since"], line["assignee_role"]) == ("-0.5", T.isoformat(), "")
