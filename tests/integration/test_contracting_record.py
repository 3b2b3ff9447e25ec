"""Phases 4-6 on the shared contract record, on real PostgreSQL and Kafka: clm's approval,
signature, execution and activation events, order sync's order and reconciliation events,
published as the services do, read back over HTTP."""

import datetime as dt

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
