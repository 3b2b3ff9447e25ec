"""Amendments and renewal successors (phase 7) on real PostgreSQL and Kafka: clm opens them over
HTTP as linked requests (ContractRequested then ContractLinked on clm.contracts.v1); the amendment
and the successor reach execution (their events recorded on the aggregate, as the activation
story does), the successor is activated by its start date and asset_coverage carries the
predecessor's asset links over; a tacit renewal moves the operational end; the projection shows
the links and the renewal chain, and the terms in force before and after the amendment's
effective date; a rebuild gives the same link rows."""

import asyncio
import datetime as dt
import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa

from shared.events import topics
from shared.events.contract_starts import ContractStartReached
from shared.events.contracts import ContractDrafted, ContractRequestStateChanged, Party
from shared.events.envelope import Envelope
from shared.events.negotiation import NegotiatedTerms, NegotiatedTermsRecorded
from shared.events.renewal_terms import ContractPeriod, ContractRenewed
from shared.events.signature import ContractExecuted, SignatureRequested, Signer, SignerSigned
from services.asset_coverage.application.following import commit as coverage_commit
from services.asset_coverage.domain.asset import Asset
from shared.events.assets import AssetDetails
from services.clm.application.contract_requests import commit as clm_commit
from services.clm.domain.contract import Contract
from services.projection.adapters.contract_links import links as link_table
from services.projection.application.rebuild import rebuild
from tests.activation_story import AT, ONSITE, SIGNED, executed_contract, published, quote_with_skus
from tests.conftest import bearer, eventually, on_kafka, running_service
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

SALES, MANAGER, READER = bearer("sales"), bearer("contract_manager"), bearer("finance")
D = dt.date


async def _execute(clm, contract_id: uuid.UUID, start: dt.date, end: dt.date, terms: NegotiatedTerms | None = None) -> None:
    """The request drafted, negotiated, approved, signed and executed: its events on the aggregate
    (tests/activation_story.py's steps), committed through clm's unit of work."""
    async with clm.app.state.context.uow() as uow:
        contract = await uow.get(Contract, str(contract_id))
        cid = contract.contract_uuid
        contract.record(ContractDrafted(
            contract_id=cid, number=contract.requested.number, title=contract.request_terms.title,
            contract_model="service_contract", parties=[Party(role="vendor", name="Us"),
                                                        Party(role="customer", name=contract.request_terms.account.name)],
            start_date=start, end_date=end, time_zone="Europe/Berlin"))
        if terms is not None:
            contract.record(NegotiatedTermsRecorded(contract_id=cid, terms=terms, by="sales-ann", at=AT))
        states = ["draft", "new", "work_in_progress", "awaiting_approval", "awaiting_signature", "contract_signed"]
        for before, after in zip(states, states[1:]):
            contract.record(ContractRequestStateChanged(contract_id=cid, from_state=before, to_state=after, by="cm-max", at=AT))
        envelope_id, signer_id = uuid.uuid4(), uuid.uuid4()
        contract.record(SignatureRequested(
            contract_id=cid, envelope_id=envelope_id, version_number=1, document=SIGNED, provider="builtin", by="cm-max", at=AT,
            signers=[Signer(signer_id=signer_id, name="Ann Buyer", email="ann@acme.example", role="customer", routing_order=1)],
            deadline=AT + dt.timedelta(days=14)))
        contract.record(SignerSigned(contract_id=cid, envelope_id=envelope_id, signer_id=signer_id, at=AT, typed_name="Ann Buyer"))
        contract.record(ContractExecuted(
            contract_id=cid, envelope_id=envelope_id, version_number=1, signed_document=SIGNED, audit_certificate=SIGNED,
            start_date=start, end_date=end, time_zone="Europe/Berlin", executed_at=AT))
        await clm_commit(uow)


def _start(contract_id: uuid.UUID, start: dt.date) -> Envelope:
    return Envelope(ContractStartReached(contract_id=contract_id, start_date=start, time_zone="Europe/Berlin", reached_at=AT), 1)


async def _json(client, url: str, check=lambda body: True, headers=READER):
    response = await client.get(url, headers=headers)
    return response.json() if response.status_code == 200 and check(response.json()) else None


async def test_an_amendment_and_a_renewal_successor_through_clm_coverage_and_the_read_model(service_env, stack):
    premium, onsite = f"SUP-PREM-{uuid.uuid4().hex[:6]}", f"ONSITE-{uuid.uuid4().hex[:6]}"
    predecessor = executed_contract(quote_with_skus(premium, onsite))  # 2027-01-01..2029-12-31, 36 months
    pid = predecessor.contract_uuid
    robot = f"ROB-{uuid.uuid4().hex[:6]}"
    async with AsyncExitStack() as services:
        clm = await services.enter_async_context(running_service("clm", service_env("clm")))
        coverage = await services.enter_async_context(running_service("asset_coverage", service_env("asset_coverage")))
        projection = await services.enter_async_context(running_service("projection", service_env("projection")))
        async with clm.app.state.context.uow() as uow:
            uow.add(predecessor)
            await clm_commit(uow)
        async with coverage.app.state.context.uow() as uow:
            uow.add(Asset.register(robot, AssetDetails(kind="robot", name="Robot 7", site="Plant 4")))
            await coverage_commit(uow, D(2027, 1, 1))
        await publish(stack.kafka_admin, [Envelope(published(premium), 1), Envelope(published(onsite, ONSITE), 1),
                                          _start(pid, D(2027, 1, 1))])
        await eventually(lambda: _json(coverage, f"/api/v1/operational-contracts/{pid}"), timeout=60)  # activated
        linked = await coverage.post(f"/api/v1/contracts/{pid}/assets", json={"asset_id": robot, "asset_name": "Robot 7"},
                                     headers=bearer("asset_manager"))
        assert linked.status_code == 201, linked.text

        # -- an amendment: a draft request prefilled from the parent, idempotent by its id ----------
        amendment_id = uuid.uuid4()
        body = {"amendment_id": str(amendment_id), "effective_date": "2028-01-01", "title": "Payment terms"}
        assert (await clm.post(f"/api/v1/contracts/{pid}/amendments", json=body, headers=bearer("finance"))).status_code == 403
        created = await clm.post(f"/api/v1/contracts/{pid}/amendments", json=body, headers=SALES)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"/api/v1/contract-requests/{amendment_id}"
        amendment = created.json()
        assert (amendment["state"], amendment["title"], amendment["currency"]) == ("draft", "Payment terms", "EUR")
        assert amendment["link"]["relation"] == "amendment" and amendment["link"]["parent_id"] == str(pid)
        assert [line["sku"] for line in amendment["lines"]] == [premium, onsite]
        again = await clm.post(f"/api/v1/contracts/{pid}/amendments", json=body, headers=MANAGER)
        assert (again.status_code, again.json()["version"]) == (200, amendment["version"])
        outside = await clm.post(f"/api/v1/contracts/{pid}/amendments", json={"effective_date": "2030-01-01"}, headers=SALES)
        assert (outside.status_code, outside.json()["rule"]) == (422, "link.effective_date_outside_term")
        of_a_request = await clm.post(f"/api/v1/contracts/{amendment_id}/renewal", headers=SALES)
        assert (of_a_request.status_code, of_a_request.json()["rule"]) == (409, "link.parent_not_executed")
        on_clm = await on_kafka(stack, topics.CLM_CONTRACTS, str(amendment_id), "ContractLinked")
        assert on_clm.stream_version == 2  # right after ContractRequested
        assert on_clm.event.effective_date == D(2028, 1, 1)

        # -- a renewal: the successor starts the day after, for the same term; one per predecessor ---
        renewed = await clm.post(f"/api/v1/contracts/{pid}/renewal", json={}, headers=SALES)
        assert renewed.status_code == 201, renewed.text
        successor = renewed.json()
        sid = uuid.UUID(successor["contract_id"])
        assert (successor["desired_start_date"], successor["term_months"]) == ("2030-01-01", 36)
        assert [(line["sku"], line["start_date"], line["end_date"]) for line in successor["lines"]] == [
            (premium, "2030-01-01", "2032-12-31"), (onsite, None, None)]
        second = await clm.post(f"/api/v1/contracts/{pid}/renewal", json={"successor_id": str(uuid.uuid4())}, headers=MANAGER)
        assert (second.status_code, second.json()["contract_id"]) == (200, str(sid))
        links = (await clm.get(f"/api/v1/contracts/{pid}/links", headers=READER)).json()
        assert ([a["contract_id"] for a in links["amendments"]], links["successor"]["contract_id"]) == ([str(amendment_id)], str(sid))
        assert links["parent"] is None and links["predecessor"] is None and links["relation"] is None
        of_successor = (await clm.get(f"/api/v1/contracts/{sid}/links", headers=READER)).json()
        assert (of_successor["relation"], of_successor["predecessor"]["contract_id"]) == ("successor", str(pid))

        # -- both executed; the successor's start activates it, and the robot's coverage carries over --
        await _execute(clm, amendment_id, D(2028, 1, 1), D(2029, 12, 31), NegotiatedTerms(payment_days=60, governing_law="CH"))
        await _execute(clm, sid, D(2030, 1, 1), D(2032, 12, 31))
        await publish(stack.kafka_admin, [_start(sid, D(2030, 1, 1))])
        carried = await eventually(lambda: _json(coverage, f"/api/v1/operational-contracts/{sid}",
                                                 lambda c: c["links"]), timeout=60)
        assert carried["predecessor_id"] == str(pid)
        assert [(link["asset_id"], link["carried_from"]) for link in carried["links"]] == [(robot, str(pid))]

        # -- a tacit renewal of the predecessor (as clm records it) moves its operational end ---------
        period = ContractPeriod(number=2, start_date=D(2030, 1, 1), end_date=D(2032, 12, 31),
                                notice_deadline=D(2032, 10, 2), cancel_by=D(2032, 9, 2))
        renewal = ContractRenewed(contract_id=pid, previous_end_date=D(2029, 12, 31), period=period, renewals=1, at=AT)
        await publish(stack.kafka_admin, [Envelope(renewal, 100), Envelope(renewal, 100)])
        await eventually(lambda: _json(coverage, f"/api/v1/operational-contracts/{pid}",
                                       lambda c: c["end_date"] == "2032-12-31"), timeout=60)

        # -- the read model: links, the chain, the terms in force before and after the amendment -----
        record = await eventually(lambda: _json(projection, f"/api/v1/contracts/{pid}", lambda r: (
            r["links"]["successor_id"] and r["links"]["amendments"] and r["links"]["amendments"][0]["in_force"])), timeout=60)
        assert record["links"]["chain"] == [str(pid), str(sid)]
        assert [(a["contract_id"], a["effective_date"]) for a in record["links"]["amendments"]] == [
            (str(amendment_id), "2028-01-01")]
        of_amendment = (await projection.get(f"/api/v1/contracts/{amendment_id}", headers=READER)).json()["links"]
        assert (of_amendment["relation"], of_amendment["parent_id"]) == ("amendment", str(pid))
        succeeding = (await projection.get(f"/api/v1/contracts/{sid}", headers=READER)).json()["links"]
        assert (succeeding["predecessor_id"], succeeding["chain"]) == (str(pid), [str(pid), str(sid)])

        before = (await projection.get(f"/api/v1/contracts/{pid}/terms", params={"as_of": "2027-12-31"}, headers=READER)).json()
        after = (await projection.get(f"/api/v1/contracts/{pid}/terms", params={"as_of": "2028-01-01"}, headers=READER)).json()
        assert before["amendments_applied"] == [] and after["amendments_applied"] == [str(amendment_id)]
        assert before["terms"]["payment_days"] == {"value": None, "source": str(pid)}
        assert after["terms"]["payment_days"] == {"value": 60, "source": str(amendment_id)}
        assert after["terms"]["governing_law"] == {"value": "CH", "source": str(amendment_id)}
        assert after["terms"]["auto_renewal"] == {"value": True, "source": str(pid)}
        assert after["terms"]["end_date"] == {"value": "2029-12-31", "source": str(pid)}  # before the renewal
        renewed = (await projection.get(f"/api/v1/contracts/{pid}/terms", params={"as_of": "2030-01-01"},
                                        headers=READER)).json()
        assert renewed["terms"]["end_date"] == {"value": "2032-12-31", "source": str(pid)}
        today = (await projection.get(f"/api/v1/contracts/{pid}/terms", headers=READER)).json()
        assert today["as_of"] and today["amends"] is None
        missing = await projection.get(f"/api/v1/contracts/{uuid.uuid4()}/terms", headers=READER)
        assert missing.status_code == 404

        live = await _link_rows(projection.app.state.context.engine, [amendment_id, sid])
        assert len(live) == 2
        await services.aclose()  # the live consumer stops before a rebuild

    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(service_env("projection")["DATABASE_URL"],
                                 connect_args={"server_settings": {"search_path": "projection"}})
    try:
        await rebuild(engine, stack.kafka_for("projection"))
        assert await _link_rows(engine, [amendment_id, sid]) == live
    finally:
        await engine.dispose()


async def _link_rows(engine, ids: list[uuid.UUID]) -> list[tuple]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(link_table).where(link_table.c.contract_id.in_(ids)).order_by(link_table.c.contract_id))
        return [tuple(r) for r in rows]


async def test_two_renews_at_once_open_one_successor(service_env, stack):
    predecessor = executed_contract()
    async with running_service("clm", service_env("clm")) as clm:
        async with clm.app.state.context.uow() as uow:
            uow.add(predecessor)
            await clm_commit(uow)
        url = f"/api/v1/contracts/{predecessor.contract_uuid}/renewal"
        answers = await asyncio.gather(*(clm.post(url, json={"successor_id": str(uuid.uuid4())}, headers=SALES)
                                         for _ in range(3)))
        assert sorted(a.status_code for a in answers) == [200, 200, 201]
        assert len({a.json()["contract_id"] for a in answers}) == 1
