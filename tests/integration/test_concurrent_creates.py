"""A create retried while the first attempt still runs (a client timeout, a 503 resent) is a retry
like any other: one 201, the others 200 with the same record, never 409 stream.version_conflict."""

import asyncio
import uuid

import pytest

from tests.conftest import bearer, running_service

pytestmark = pytest.mark.integration


async def test_the_same_draft_sent_many_times_at_once_is_created_once_and_replayed_to_the_rest(service_env):
    contract_id = str(uuid.uuid4())
    body = {"contract_id": contract_id, "title": "Raced", "parties": [{"role": "customer", "name": "ACME"}],
            "start_date": "2027-01-01", "end_date": "2027-12-31"}
    async with running_service("clm", service_env("clm")) as clm:
        answers = await asyncio.gather(*(clm.post("/api/v1/contracts", json=body, headers=bearer("contract_manager"))
                                         for _ in range(12)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 11 + [201], [a.text for a in answers if a.status_code not in (200, 201)]
        assert {a.json()["contract_id"] for a in answers} == {contract_id}
        assert {a.json()["version"] for a in answers} == {1}

        other = await clm.post("/api/v1/contracts", json={**body, "title": "Other"}, headers=bearer("contract_manager"))
        assert (other.status_code, other.json()["rule"]) == (409, "contract.already_exists")
