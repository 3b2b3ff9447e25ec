"""Cycle-time analytics on real PostgreSQL and Kafka: clm's contract events for five contracts
through every phase (at event times chosen here, in March 2041, a month no other test uses), one
waiting in approval and one cancelled in negotiation, published as clm's relay does; p50/p90 read
over HTTP and checked against the percentiles computed here from those times (linear
interpolation, as percentile_cont); bottlenecks; overridden clauses; CSV; the rebuild's rows."""

import csv
import datetime as dt
import io
import uuid

import pytest
import sqlalchemy as sa

from services.projection.adapters.cycle_times import phase_intervals
from services.projection.application.rebuild import rebuild
from shared.events.activation import ContractActivatedV2
from shared.events.approvals import ApprovalCompleted, ApprovalRouted
from shared.events.contracts import ContractAssigned, ContractClassified, ContractDrafted, ContractRequested, ContractRequestStateChanged
from shared.events.envelope import Envelope
from shared.events.negotiation import ContractVersionAdded, DeviationFlagged, TemplateUsed
from shared.events.signature import ContractExecuted, SignatureRequested
from tests.conftest import bearer, eventually, running_service
from tests.service_contract_story import publish
from tests.unit.test_event_contracts import SAMPLES

pytestmark = pytest.mark.integration
T0 = dt.datetime(2041, 3, 4, 8, tzinfo=dt.UTC)  # a month no other test uses (the dashboard's is May 2041)
PHASES = ("request", "drafting", "negotiation", "approval", "signature", "activation")


def at(hours: float, t0: dt.datetime = T0) -> dt.datetime:
    return t0 + dt.timedelta(hours=hours)


def percentile(values: list[float], fraction: float) -> float:
    """The oracle: linear interpolation between the closest ranks (what percentile_cont does)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _sample(event_type, contract_id, **changes):
    return SAMPLES[event_type].model_copy(update={"contract_id": contract_id, **changes})


class Contract:
    """A contract's clm stream; `boundaries` are the hours at which it enters each phase in turn,
    the last one where it leaves the last phase reached."""

    def __init__(self, template: TemplateUsed, classification: str, boundaries: list[float], *,
                 deviations: list[dict] = (), cancel_at: float | None = None, t0: dt.datetime = T0,
                 title: str | None = None, assignee: str | None = None):
        self.contract_id, self.t0, self.title, self.assignee = uuid.uuid4(), t0, title, assignee
        self.template, self.classification, self.boundaries = template, classification, boundaries
        self.deviations, self.cancel_at = list(deviations), cancel_at

    def at(self, hours: float) -> dt.datetime:
        return at(hours, self.t0)

    def durations(self, month: int | None = None) -> dict[str, float]:
        """Hours per phase ended (not by a cancellation), in `month` when given."""
        return {PHASES[n]: end - start for n, (start, end) in enumerate(zip(self.boundaries, self.boundaries[1:]))
                if month in (None, self.at(end).month)}

    def envelopes(self) -> list[Envelope]:
        c, b = self.contract_id, self.boundaries
        requested = _sample(ContractRequested, c, number=f"CNT-{c.hex[:8]}",
                            title=self.title or f"Analytics <b>{c.hex[:4]}</b>")
        steps: list[tuple[float, object]] = [
            (b[0], requested),
            (b[0], ContractClassified(contract_id=c, classification=self.classification, by="rules", at=self.at(b[0]),
                                      reasons=[])),
        ]
        if self.assignee:
            steps.append((b[0], ContractAssigned(contract_id=c, assignee=self.assignee, assignee_role="legal_counsel",
                                                 by="cm-max", at=self.at(b[0]))))
        version = _sample(ContractVersionAdded, c)
        if len(b) > 1:
            drafted = _sample(ContractDrafted, c, number=requested.number, title=requested.title)
            steps += [(b[1], drafted), (b[1], version.model_copy(update={"version_number": 1, "template": self.template}))]
        if len(b) > 2:
            steps.append((b[2], version.model_copy(update={"version_number": 2})))
            for n, deviation in enumerate(self.deviations):
                steps.append((b[2], DeviationFlagged(contract_id=c, deviation_id=uuid.uuid5(c, str(n)), version_number=2,
                                                     flagged_at=self.at(b[2]), **deviation)))
        if len(b) > 3:
            steps.append((b[3], ApprovalRouted(contract_id=c, round=1, version_number=2, matrix_id=uuid.UUID(int=7),
                                               matrix_version=1, by="sales-ann", at=self.at(b[3]), steps=[])))
        if len(b) > 4:
            steps += [(b[4], ApprovalCompleted(contract_id=c, round=1, version_number=2, at=self.at(b[4]))),
                      (b[4], _sample(SignatureRequested, c, at=self.at(b[4])))]
        if len(b) > 5:
            steps.append((b[5], _sample(ContractExecuted, c, executed_at=self.at(b[5]))))
        if len(b) > 6:
            steps.append((b[6], _sample(ContractActivatedV2, c, activated_at=self.at(b[6]))))
        if self.cancel_at is not None:
            steps.append((self.cancel_at, ContractRequestStateChanged(
                contract_id=c, from_state="work_in_progress", to_state="cancelled", by="sales-ann", at=self.at(self.cancel_at))))
        return [Envelope(event, version, time=self.at(hours)) for version, (hours, event) in enumerate(steps, start=1)]


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_cycle_times_bottlenecks_and_overridden_clauses(service_env, stack):
    msa = TemplateUsed(template_id=uuid.uuid4(), template_version=1, kind="msa")
    nda = TemplateUsed(template_id=uuid.uuid4(), template_version=1, kind="nda")
    cap = {"kind": "term_changed", "term": "liability_cap", "before": "1000000", "after": "500000"}
    law = {"kind": "non_standard_clause", "clause_number": "12", "heading": " Governing Law"}
    done = [
        Contract(msa, "standard", [0, 5, 29, 53, 60, 84, 86], deviations=[cap]),
        Contract(msa, "non_standard", [1, 3, 51, 99, 100, 101, 102], deviations=[cap, law]),
        Contract(msa, "standard", [2, 10, 11, 12, 14, 15, 24 * 30], deviations=[law | {"heading": "governing law "}]),
        Contract(nda, "high_risk", [3, 4, 40, 50, 51, 62, 63]),
        Contract(nda, "standard", [4, 4.5, 20, 44, 45.25, 46, 47], deviations=[cap]),
    ]
    waiting = Contract(nda, "standard", [5, 6, 7, 8])  # in approval since at(8)
    canceled = Contract(msa, "standard", [6, 7, 8], cancel_at=300)  # its negotiation, cut short, in no cycle time
    everyone = [*done, waiting, canceled]

    env = service_env("projection", ALLOW_CLOCK_CONTROL="true")
    async with running_service("projection", env) as projection:
        for contract in everyone:
            await publish(stack.kafka_admin, contract.envelopes())

        async def rows_of(contract):
            async with projection.app.state.context.engine.connect() as conn:
                return sorted(tuple(r) for r in await conn.execute(
                    sa.select(phase_intervals).where(phase_intervals.c.contract_id == contract.contract_id)))

        async def settled():
            rows = {c.contract_id: await rows_of(c) for c in everyone}
            return rows if (all(len(rows[c.contract_id]) == 6 and all(r[3] for r in rows[c.contract_id]) for c in done)
                            and len(rows[waiting.contract_id]) == 4 and rows[canceled.contract_id]
                            and all(r[3] for r in rows[canceled.contract_id])) else None

        live = await eventually(settled, timeout=60)
        assert [(r[1], r[2], r[3], r[4]) for r in sorted(live[canceled.contract_id], key=lambda r: r[2])] == [
            ("request", at(6), at(7), False), ("drafting", at(7), at(8), False), ("negotiation", at(8), at(300), True)]

        # Ungrouped, in the month: each phase's p50 and p90 over the five contracts (the waiting one's
        # request, drafting and negotiation count too).
        march = {"from": "2041-03-01", "to": "2041-03-31"}
        response = await projection.get("/api/v1/analytics/cycle-times", params=march, headers=bearer("sales"))
        assert response.status_code == 200, response.text
        by_phase = {r["phase"]: r for r in response.json()}
        for phase in PHASES:
            hours = [c.durations(3)[phase] for c in everyone if phase in c.durations(3)]
            assert by_phase[phase]["contracts"] == len(hours), phase
            assert by_phase[phase]["p50_hours"] == pytest.approx(percentile(hours, 0.5), abs=1e-3), phase
            assert by_phase[phase]["p90_hours"] == pytest.approx(percentile(hours, 0.9), abs=1e-3), phase
        assert [r["phase"] for r in response.json()] == list(PHASES) and {r["group"] for r in response.json()} == {"all"}

        # Per template (ours, by id), with its kind as the label.
        response = await projection.get("/api/v1/analytics/cycle-times", params={"group_by": "template"},
                                        headers=bearer("finance"))
        ours = {(r["phase"], r["group"]): r for r in response.json()
                if r["group"] in (str(msa.template_id), str(nda.template_id))}
        for template in (msa, nda):
            of_template = [c for c in everyone if c.template is template]
            for phase in PHASES:
                hours = [c.durations()[phase] for c in of_template if phase in c.durations()]
                row = ours[(phase, str(template.template_id))]
                assert (row["label"], row["contracts"]) == (template.kind, len(hours))
                assert row["p90_hours"] == pytest.approx(percentile(hours, 0.9), abs=1e-3), (template.kind, phase)

        # Per classification in March: the approval phase of each class.
        response = await projection.get("/api/v1/analytics/cycle-times", params={**march, "group_by": "classification"},
                                        headers=bearer("legal_counsel"))
        approval = {r["group"]: r for r in response.json() if r["phase"] == "approval"}
        standard = [c.durations()["approval"] for c in done if c.classification == "standard"]
        assert approval["standard"]["contracts"] == 3
        assert approval["standard"]["p50_hours"] == pytest.approx(percentile(standard, 0.5), abs=1e-3)
        assert approval["high_risk"]["p50_hours"] == pytest.approx(1.0)

        # By month: the activation that ended in April (2 April) falls out of March.
        response = await projection.get("/api/v1/analytics/cycle-times", params={"group_by": "month", "from": "2041-03-01",
                                                                                "to": "2041-04-30"}, headers=bearer("sales"))
        activation = {r["group"]: r["contracts"] for r in response.json() if r["phase"] == "activation"}
        assert activation == {"2041-03": 4, "2041-04": 1}

        # CSV: the same numbers, by format= and by Accept.
        as_csv = await projection.get("/api/v1/analytics/cycle-times", params={**march, "format": "csv"},
                                      headers=bearer("sales"))
        assert as_csv.headers["content-type"].startswith("text/csv")
        rows = _csv_rows(as_csv.text)
        assert list(rows[0]) == ["phase", "group", "label", "contracts", "p50_hours", "p90_hours"]
        assert {r["phase"]: float(r["p90_hours"]) for r in rows} == pytest.approx(
            {p: r["p90_hours"] for p, r in by_phase.items()})
        accepted = await projection.get("/api/v1/analytics/cycle-times", params=march,
                                        headers={**bearer("sales"), "Accept": "text/csv"})
        assert accepted.text == as_csv.text

        inverted = await projection.get("/api/v1/analytics/cycle-times", params={"from": "2041-04-01", "to": "2041-03-01"},
                                        headers=bearer("sales"))
        assert inverted.status_code == 422 and inverted.json()["rule"] == "analytics.range_inverted"
        assert (await projection.get("/api/v1/analytics/cycle-times")).status_code == 401
        assert (await projection.get("/api/v1/analytics/cycle-times", params={"group_by": "quarter"},
                                     headers=bearer("sales"))).status_code == 422

        # Bottlenecks at 10 h after the waiting contract entered approval.
        assert (await projection.put("/api/v1/ops/clock", json={"now": at(18).isoformat()}, headers=bearer("sre"))).status_code == 200
        response = await projection.get("/api/v1/analytics/bottlenecks", params={"top": 100}, headers=bearer("sales"))
        assert response.status_code == 200, response.text
        phases = {r["phase"]: r for r in response.json()}
        assert list(phases) == list(PHASES)
        ours = [w for w in phases["approval"]["longest_waiting"] if w["contract_id"] == str(waiting.contract_id)]
        assert len(ours) == 1 and ours[0]["age_hours"] == pytest.approx(10, abs=0.1)
        assert ours[0]["number"] == f"CNT-{waiting.contract_id.hex[:8]}"
        assert phases["approval"]["open"] >= 1
        assert all(w["contract_id"] != str(canceled.contract_id) for r in phases.values() for w in r["longest_waiting"])
        as_csv = await projection.get("/api/v1/analytics/bottlenecks", params={"top": 100, "format": "csv"},
                                      headers=bearer("sales"))
        line = [r for r in _csv_rows(as_csv.text) if r["contract_id"] == str(waiting.contract_id)]
        assert len(line) == 1 and line[0]["phase"] == "approval" and float(line[0]["age_hours"]) == pytest.approx(10, abs=0.1)

        # Overridden clauses, flagged in March: the liability cap three times, governing law twice
        # (its headings differ only in case and spaces).
        response = await projection.get("/api/v1/analytics/overridden-clauses", params={**march, "limit": 500},
                                        headers=bearer("sales"))
        assert response.status_code == 200, response.text
        clauses = {r["clause_key"]: r for r in response.json()}
        cap_row, law_row = clauses["term/liability_cap"], clauses["heading/governing law"]
        assert (cap_row["deviations"], cap_row["contracts"], cap_row["open"], cap_row["label"]) == (3, 3, 3, "liability_cap")
        assert (law_row["deviations"], law_row["contracts"], law_row["kind"]) == (2, 2, "non_standard_clause")
        assert list(clauses).index("term/liability_cap") < list(clauses).index("heading/governing law")
        as_csv = await projection.get("/api/v1/analytics/overridden-clauses", params={**march, "format": "csv"},
                                      headers=bearer("sales"))
        assert {r["clause_key"] for r in _csv_rows(as_csv.text)} >= {"term/liability_cap", "heading/governing law"}

    # The rebuild (consumer stopped) gives the same rows.
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(env["DATABASE_URL"], connect_args={"server_settings": {"search_path": "projection"}})
    try:
        await rebuild(engine, stack.kafka_for("projection"))
        async with engine.connect() as conn:
            rebuilt = {c.contract_id: sorted(tuple(r) for r in await conn.execute(
                sa.select(phase_intervals).where(phase_intervals.c.contract_id == c.contract_id))) for c in everyone}
        assert rebuilt == live
    finally:
        await engine.dispose()
