"""Phases 4-6 on the shared contract record, on real PostgreSQL and Kafka: clm's approval,
signature, execution and activation events, order sync's order and reconciliation events,
published as the services do, read back over HTTP."""

import datetime as dt
import uuid

import pytest

from tests.conftest import bearer, eventually, running_service
from tests.contracting_story import HEAD_OF_LEGAL, ContractingStory, at
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration


async def test_the_record_shows_approval_signature_execution_activation_order_and_reconciliation(service_env, stack):
    story = ContractingStory()
    async with running_service("projection", service_env("projection")) as projection:
        url = f"/api/v1/contracts/{story.contract_id}"

        async def record(check):
            response = await projection.get(url, headers=bearer("sales"))
            return response.json() if response.status_code == 200 and check(response.json()) else None

        await publish(stack.kafka_admin, story.first_part())
        # Each topic in order, the topics in no order: clm's last event (activated) says its stream is in.
        first = await eventually(lambda: record(lambda r: r["reconciliation"] and r["order"] and r["order"]["fallout"]
                                                and (r["activation"] or {}).get("state") == "activated"), timeout=60)
        legal, finance = first["approval"]["steps"]
        approval = {k: v for k, v in first["approval"].items() if k not in ("steps", "since")}
        assert approval == {"round": 1, "state": "approved", "version_number": 2, "approved_version": 2,
                            "matrix_id": "00000000-0000-0000-0000-000000000007", "matrix_version": 3, "reason": None}
        assert dt.datetime.fromisoformat(first["approval"]["since"]) == at(50)
        assert (legal["name"], legal["state"], legal["level"], legal["decided_by"]) == (
            "Legal review", "granted", 1, "head-of-legal")
        assert legal["approvers"] == [HEAD_OF_LEGAL.model_dump()] and legal["at_risk_since"] is None  # its new level's SLA
        assert legal["escalated_at"] and legal["position"] == 1 and legal["step_id"] == str(story.steps[0])
        assert (finance["state"], finance["decided_by"], finance["comment"], finance["informed_roles"]) == (
            "granted", "fin-fred", "fine", ["sales_ops"])

        signature = first["signature"]
        assert (signature["state"], signature["provider"], signature["envelope_id"]) == ("executed", "builtin", str(story.envelope_id))
        assert [(s["name"], s["state"], s["routing_order"]) for s in signature["signers"]] == [
            ("Ann Buyer", "signed", 1), ("Carla CM", "signed", 2)]
        ann, carla = signature["signers"]
        assert ann["viewed_at"] and ann["signed_at"] and ann["invited_at"] and carla["reminded_at"] and not carla["viewed_at"]
        assert first["execution"]["sha256"] == story.signed_document.sha256 and first["execution"]["version_number"] == 2
        assert (first["activation"]["state"], first["activation"]["missing"]) == ("activated", [])
        assert first["order"]["order_id"] == str(story.order_id) and first["order"]["state"] == "created"
        assert [(f["order_line_id"], f["rule"], f["attempt"]) for f in first["order"]["fallout"]] == [
            (str(story.order_lines[1]), "catalogue.entry_retired", 1)]
        assert first["service_contract_id"] == str(story.contract_id)
        assert first["reconciliation"]["state"] == "mismatched"
        assert first["reconciliation"]["differences"] == [story.mismatch().model_dump()]

        await publish(stack.kafka_admin, story.rest())
        done = await eventually(lambda: record(lambda r: r["reconciliation"]["state"] == "reconciled"
                                               and r["order"]["state"] == "fulfilled"), timeout=60)
        assert done["order"]["fallout"] == [] and done["reconciliation"]["differences"] == []


async def test_a_rejection_starts_a_new_round_an_invalidation_and_a_decline_show_why(service_env, stack):
    from shared.events.approvals import (
        ApprovalCompleted, ApprovalGranted, ApprovalRejected, ApprovalRouted, ApprovalsInvalidated, ApprovalStepOpened,
        RoutedStep,
    )
    from shared.events.envelope import Envelope
    from shared.events.signature import SignatureRequested, Signer, SignerDeclined, SignerInvited
    from tests.contracting_story import LEGAL, doc

    story = ContractingStory()
    c, envelope_id, signer_id = story.contract_id, story.envelope_id, story.signers[0]
    step1, step2 = uuid.uuid5(c, "1/1"), uuid.uuid5(c, "2/1")

    def routed(round_: int, step_id, version: int) -> list:
        return [ApprovalRouted(contract_id=c, round=round_, version_number=version, matrix_id=uuid.UUID(int=7),
                               matrix_version=1, by="sales-ann", at=at(round_), steps=[RoutedStep(
                                   step_id=step_id, name="Legal review", sequence=1, approvers=[LEGAL], sla="P2D",
                                   rule_ids=["non-standard"])]),
                ApprovalStepOpened(contract_id=c, step_id=step_id, round=round_, approvers=[LEGAL], opened_at=at(round_),
                                   at_risk_at=at(round_ + 36), due_at=at(round_ + 48))]

    events = [
        *routed(1, step1, 2),
        ApprovalRejected(contract_id=c, step_id=step1, by="legal-lea", roles=["legal_counsel"], comment="cap too high",
                         closed_step_ids=[step1], at=at(1.5)),
        *routed(2, step2, 3),
        ApprovalGranted(contract_id=c, step_id=step2, by="legal-lea", roles=["legal_counsel"], at=at(2.5)),
        ApprovalCompleted(contract_id=c, round=2, version_number=3, at=at(2.5)),
        SignatureRequested(contract_id=c, envelope_id=envelope_id, version_number=3, document=doc("v3.docx", "d"),
                           provider="docusign", provider_envelope_id="ds-123", deadline=at(300), by="cm-carla", at=at(3),
                           signers=[Signer(signer_id=signer_id, name="Ann Buyer", email="ann@acme.example",
                                           role="customer", routing_order=1)]),
        SignerInvited(contract_id=c, envelope_id=envelope_id, signer_id=signer_id, routing_order=1, at=at(3)),
        SignerDeclined(contract_id=c, envelope_id=envelope_id, signer_id=signer_id, reason="wrong address", at=at(4),
                       provider_event_id="ds-evt-1"),
        ApprovalsInvalidated(contract_id=c, round=2, version_number=4, reason="version 4 added after approval",
                             by="sales-ann", at=at(5)),
    ]
    async with running_service("projection", service_env("projection")) as projection:
        await publish(stack.kafka_admin, [Envelope(e, n) for n, e in enumerate(events, start=30)])

        async def invalidated():
            response = await projection.get(f"/api/v1/contracts/{c}", headers=bearer("finance"))
            body = response.json() if response.status_code == 200 else {}
            return body if (body.get("approval") or {}).get("state") == "invalidated" else None

        record = await eventually(invalidated, timeout=60)
        approval = record["approval"]
        assert (approval["round"], approval["approved_version"], approval["reason"]) == (
            2, None, "version 4 added after approval")
        assert [(s["step_id"], s["state"], s["decided_by"]) for s in approval["steps"]] == [
            (str(step2), "invalidated", "legal-lea")]  # the current round's steps only
        signature = record["signature"]
        assert (signature["state"], signature["provider"], signature["provider_envelope_id"], signature["reason"]) == (
            "declined", "docusign", "ds-123", "wrong address")
        assert [(s["state"], s["decline_reason"]) for s in signature["signers"]] == [("declined", "wrong address")]
        assert record["execution"] is None and record["order"] is None and record["reconciliation"] is None
