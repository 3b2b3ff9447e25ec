"""Built-in signing on real PostgreSQL, Kafka and SMTP, over HTTP: an envelope for the approved
version, links mailed by clm and opened from the mailbox, two signers in routing order, the signed
copy (SHA-256) and audit certificate stored and ContractExecuted published; a decline back to
negotiation; the scheduler's reminder (a fresh link, the old one gone) and deadline; refusals
with nothing written."""

import datetime as dt
import hashlib
import io
import uuid

import docx
import pytest
import pytest_asyncio
import sqlalchemy as sa

from shared.backbone.tables import events as event_table
from shared.events import topics
from shared.events.envelope import Envelope
from shared.events.signature_dates import SignatureDeadlineReached, SignatureReminderDue
from tests.conftest import bearer, eventually, on_kafka
from tests.service_contract_story import publish
from tests.signing_flow import CM, SALES, approved_contract, links_to, sign, signers

pytestmark = pytest.mark.integration
READER = bearer("finance")


@pytest_asyncio.fixture(scope="module")
async def clm(service_env, smtp_server):
    from tests.conftest import running_service

    env = service_env("clm", SMTP_HOST=smtp_server.host, SMTP_PORT=str(smtp_server.port), SIGNING_BASE_URL="http://test",
                      SIGNING_MAIL_TICK_SECONDS="0.2")
    async with running_service("clm", env) as client:
        installed = await client.post("/api/v1/library/starter", headers=CM)
        assert installed.status_code == 200, installed.text
        yield client


def deadline(days: int = 14) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


async def send(clm, contract_id: str, people: list[dict], headers=CM, **body):
    return await clm.post(f"/api/v1/contracts/{contract_id}/signature", headers=headers,
                          json={"signers": people, "deadline": deadline(), "reminder_every_days": 3, **body})


async def events_of(clm, contract_id: str) -> list[str]:
    async with clm.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.select(event_table.c.event_type).where(event_table.c.stream_id == contract_id)
                                  .order_by(event_table.c.version))
        return [r[0] for r in rows]


async def test_two_signers_sign_in_order_and_the_contract_is_executed(clm, stack, smtp_server):
    contract_id = await approved_contract(clm)
    ann, bob = signers("Ann", "Bob")
    sent = await send(clm, contract_id, [ann, bob])
    assert sent.status_code == 201, sent.text
    assert [s["status"] for s in sent.json()["signers"]] == ["invited", "waiting"]

    (first,) = await links_to(smtp_server, ann["email"])
    page = await clm.get(f"/sign/{first}")
    assert page.status_code == 200 and "Confidentiality" in page.text and 'name="viewport"' in page.text
    assert smtp_server.mailbox.to(bob["email"]) == []  # Bob signs after Ann
    signed = await sign(clm, first, "Ann Customer")
    assert signed.status_code == 200 and "signature is recorded" in signed.text
    assert (await clm.get(f"/sign/{first}")).status_code == 410  # used: nothing recorded
    assert (await clm.get("/sign/not-a-link")).status_code == 404

    (second,) = await links_to(smtp_server, bob["email"])
    assert (await sign(clm, second, "Bob Vendor")).status_code == 200

    state = (await clm.get(f"/api/v1/contracts/{contract_id}/signature", headers=READER)).json()
    assert state["status"] == "completed"
    assert [(s["status"], s["typed_name"]) for s in state["signers"]] == [("signed", "Ann Customer"), ("signed", "Bob Vendor")]
    copy = await clm.get(f"/api/v1/contracts/{contract_id}/signature/signed-copy", headers=READER)
    assert hashlib.sha256(copy.content).hexdigest() == state["signed_document"]["sha256"] == copy.headers["X-Document-SHA256"]
    table = docx.Document(io.BytesIO(copy.content)).tables[-1]  # the signature page appended to version 1
    assert [[c.text for c in row.cells][2] for row in table.rows[1:]] == ["Ann Customer", "Bob Vendor"]
    certificate = await clm.get(f"/api/v1/contracts/{contract_id}/signature/audit-certificate", headers=READER)
    assert certificate.content.startswith(b"%PDF") and certificate.headers["content-type"] == "application/pdf"
    request = (await clm.get(f"/api/v1/contract-requests/{contract_id}", headers=READER)).json()
    assert request["state"] == "contract_signed"

    executed = (await on_kafka(stack, topics.CLM_CONTRACTS, contract_id, "ContractExecuted")).event
    assert executed.signed_document.sha256 == state["signed_document"]["sha256"]
    assert (executed.start_date, executed.end_date, executed.time_zone) == (
        dt.date(2027, 1, 1), dt.date(2028, 12, 31), "Europe/Berlin")


async def test_a_decline_returns_the_request_to_negotiation_with_the_reason(clm, smtp_server):
    contract_id = await approved_contract(clm)
    ann, bob = signers("Ann", "Bob", orders=(1, 1))  # in parallel: both invited at once
    assert (await send(clm, contract_id, [ann, bob], headers=SALES)).status_code == 201
    (link,) = await links_to(smtp_server, bob["email"])
    page = await clm.get(f"/sign/{link}")
    key = page.text.split('name="form_key" value="')[1].split('"')[0]
    declined = await clm.post(f"/sign/{link}", data={"form_key": key, "action": "decline", "reason": "cap too low"})
    assert declined.status_code == 200, declined.text
    request = (await clm.get(f"/api/v1/contract-requests/{contract_id}", headers=READER)).json()
    assert request["state"] == "work_in_progress" and "cap too low" in request["history"][-1]["reason"]
    state = (await clm.get(f"/api/v1/contracts/{contract_id}/signature", headers=READER)).json()
    assert state["status"] == "declined"
    (anns,) = await links_to(smtp_server, ann["email"])
    assert (await clm.get(f"/sign/{anns}")).status_code == 410  # the envelope ended


async def test_the_schedulers_reminder_sends_a_fresh_link_and_its_deadline_expires_the_envelope(clm, stack, smtp_server):
    contract_id = await approved_contract(clm)
    (ann,) = signers("Ann")
    envelope_id = (await send(clm, contract_id, [ann])).json()["envelope_id"]
    (old,) = await links_to(smtp_server, ann["email"])
    signer_id = uuid.UUID((await clm.get(f"/api/v1/contracts/{contract_id}/signature", headers=READER))
                          .json()["signers"][0]["signer_id"])
    now = dt.datetime.now(dt.UTC)
    due = SignatureReminderDue(envelope_id=envelope_id, contract_id=contract_id, signer_id=signer_id, number=1, due_at=now)
    reminder = Envelope(due, 1)
    await publish(stack.kafka_admin, [reminder, reminder])  # redelivered: one reminder
    _, fresh = await links_to(smtp_server, ann["email"], count=2)
    assert (await clm.get(f"/sign/{old}")).status_code == 410
    assert (await clm.get(f"/sign/{fresh}")).status_code == 200

    reached = SignatureDeadlineReached(envelope_id=envelope_id, contract_id=contract_id, deadline=now)
    await publish(stack.kafka_admin, [Envelope(reached, 2)])

    async def expired():
        state = (await clm.get(f"/api/v1/contracts/{contract_id}/signature", headers=READER)).json()
        return state["status"] == "expired"
    await eventually(expired, timeout=60)
    assert (await clm.get(f"/sign/{fresh}")).status_code == 410
    assert (await events_of(clm, contract_id)).count("SignerReminded") == 1
    assert len(smtp_server.mailbox.to(ann["email"])) == 2


async def test_refusals_write_nothing(clm):
    contract_id = await approved_contract(clm)
    before = await events_of(clm, contract_id)
    (ann,) = signers("Ann")
    no_mail = await send(clm, contract_id, [ann, {"name": "Nobody", "routing_order": 2}])
    assert no_mail.status_code == 422 and no_mail.json()["errors"][0]["field"] == "signers[1].email", no_mail.text
    unapproved = await send(clm, contract_id, [ann], version_number=2)
    assert unapproved.status_code == 409 and unapproved.json()["rule"] == "signature.version_not_approved"
    assert (await send(clm, contract_id, [ann], headers=READER)).status_code == 403  # finance is informed only
    assert await events_of(clm, contract_id) == before

    drafted_only = await approved_contract(clm)
    async with clm.app.state.context.uow() as uow:  # a new version after approval: approvals invalidated
        from shared.events.approvals import ApprovalsInvalidated
        from services.clm.domain.contract import Contract
        contract = await uow.require(Contract, drafted_only, "contract")
        contract.record(ApprovalsInvalidated(contract_id=contract.contract_uuid, round=1, reason="version 2",
                                             closed_step_ids=[], version_number=2, by="approvals",
                                             at=dt.datetime.now(dt.UTC)))
        await uow.commit()
    refused = await send(clm, drafted_only, [ann])
    assert refused.status_code == 409 and refused.json()["rule"] == "signature.version_not_approved"
    assert (await clm.get(f"/api/v1/contracts/{drafted_only}/signature/signed-copy", headers=READER)).status_code == 404


async def test_a_canceled_envelope_ends_its_links_and_a_new_one_may_be_sent(clm, smtp_server):
    contract_id = await approved_contract(clm)
    (ann,) = signers("Ann")
    assert (await send(clm, contract_id, [ann])).status_code == 201
    (link,) = await links_to(smtp_server, ann["email"])
    assert (await clm.post(f"/api/v1/contracts/{contract_id}/signature/cancel", headers=READER,
                           json={"reason": "wrong signer"})).status_code == 403
    canceled = await clm.post(f"/api/v1/contracts/{contract_id}/signature/cancel", headers=CM, json={"reason": "wrong signer"})
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert (await clm.get(f"/sign/{link}")).status_code == 410
    again = await send(clm, contract_id, [ann])
    assert again.status_code == 201 and again.json()["status"] == "sent"
    assert (await send(clm, contract_id, [ann], envelope_id=again.json()["envelope_id"])).status_code == 200  # a retry
