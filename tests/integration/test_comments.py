"""Comment threads on real PostgreSQL and Kafka: a thread on a clause of a contract's version,
replies, resolution and reopening over HTTP, with the refusals and roles; the events on
clm.comments.v1; and the shared contract record fed by clm's negotiation and comment events, the
same row in any order of arrival."""

import asyncio
import random
import uuid
from decimal import Decimal

import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from shared.backbone.unit_of_work import UnitOfWork
from shared.events import topics
from shared.events.envelope import from_kafka
from services.projection.adapters.contract_records import contracts
from services.projection.adapters.negotiation_records import contract_comment_threads, contract_deviations
from services.projection.application.projector import project
from tests.conftest import bearer, eventually, running_service, token
from tests.negotiation_story import Negotiation
from tests.service_contract_story import publish

pytestmark = pytest.mark.integration

READER = bearer("asset_manager")  # reads are for any role


def as_user(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, subject=subject)}"}


ANN, MAX, LENA, FAY = (as_user("sales-ann", "sales"), as_user("cm-max", "contract_manager"),
                       as_user("counsel-lena", "legal_counsel"), as_user("finance-fay", "finance"))


@pytest_asyncio.fixture(scope="module")
async def services(service_env):
    async with running_service("clm", service_env("clm")) as clm:
        installed = await clm.post("/api/v1/library/starter", headers=bearer("contract_manager"))
        assert installed.status_code == 200, installed.text
        async with running_service("projection", service_env("projection")) as projection:
            yield clm, projection


async def _negotiated(clm) -> str:
    """A contract drafted from the starter MSA (version 1) and answered by the counterparty (version 2)."""
    from tests.integration.test_drafting_and_negotiation import draft, edited, requested, upload

    contract_id = await requested(clm)
    drafted = await draft(clm, contract_id)
    assert drafted.status_code == 201, drafted.text
    original = await clm.get(f"/api/v1/contracts/{contract_id}/versions/1/document", headers=READER)
    answered = await upload(clm, contract_id, edited(original.content))
    assert answered.status_code == 201, answered.text
    return contract_id


async def _found(client, path: str) -> dict | None:
    response = await client.get(f"/api/v1{path}", headers=READER)
    return response.json() if response.status_code == 200 else None


async def _published(stack, thread_id: uuid.UUID, expected: int) -> list[str]:
    """The event types of the thread on clm.comments.v1, in order (one partition per key)."""
    consumer = AIOKafkaConsumer(topics.CLM_COMMENTS, **stack.kafka_admin.options(), group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        async with asyncio.timeout(60):
            while len(found) < expected:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    for m in messages:
                        if m.key == str(thread_id).encode():
                            envelope = from_kafka(m.headers, m.key, m.value, topics.CLM_COMMENTS)
                            found.append((envelope.stream_version, type(envelope.event).__name__))
    finally:
        await consumer.stop()
    return [name for _, name in sorted(found)]


async def test_a_thread_on_a_clause_replied_resolved_and_reopened_each_step_an_event(services, stack):
    clm, projection = services
    contract_id = await _negotiated(clm)
    comments = f"/api/v1/contracts/{contract_id}/comments"
    thread_id = uuid.uuid4()
    body = {"thread_id": str(thread_id), "version_number": 1, "clause_number": "7.2", "text": "Cap too low?"}

    started = await clm.post(comments, json=body, headers=LENA)
    assert started.status_code == 201, started.text
    base = f"/api/v1/comment-threads/{thread_id}"
    assert started.headers["Location"] == base
    t = started.json()
    assert (t["status"], t["version_number"], t["clause_number"], t["started_by"], t["version"]) == (
        "open", 1, "7.2", "counsel-lena", 1)
    first = t["comments"][0]["comment_id"]
    replay = await clm.post(comments, json=body, headers=LENA)
    assert (replay.status_code, replay.json()["comments"][0]["comment_id"]) == (200, first)
    other = await clm.post(comments, json={**body, "text": "Something else"}, headers=LENA)
    assert (other.status_code, other.json()["rule"]) == (409, "comment_thread.already_exists")

    assert (await clm.post(f"/api/v1/contracts/{uuid.uuid4()}/comments", json=body, headers=LENA)).status_code == 404
    zero = await clm.post(comments, json={**body, "thread_id": None, "version_number": 0}, headers=LENA)
    assert zero.status_code == 422
    forbidden = await clm.post(comments, json=body, headers=bearer("asset_manager"))
    assert forbidden.status_code == 403
    assert (forbidden.json()["rule"], forbidden.json()["required_roles"]) == (
        "auth.role_required", ["contract_manager", "finance", "legal_counsel", "sales", "sales_ops"])

    reply_id = uuid.uuid4()
    reply = {"comment_id": str(reply_id), "reply_to": first, "text": "Fees x2 is our floor"}
    replied = await clm.post(f"{base}/replies", json=reply, headers=FAY)
    assert replied.status_code == 201, replied.text
    assert (replied.json()["comment_id"], [c["author"] for c in replied.json()["comments"]]) == (
        str(reply_id), ["counsel-lena", "finance-fay"])
    assert (await clm.post(f"{base}/replies", json=reply, headers=FAY)).status_code == 200
    stray = await clm.post(f"{base}/replies", json={"reply_to": str(uuid.uuid4()), "text": "?"}, headers=ANN)
    assert (stray.status_code, stray.json()["rule"]) == (422, "comment.reply_to_not_in_thread")

    stale = await clm.post(f"{base}/resolution", json={"note": "ok"}, headers={**MAX, "If-Match": '"1"'})
    assert (stale.status_code, stale.json()["rule"]) == (409, "stream.version_conflict")
    resolved = await clm.post(f"{base}/resolution", json={"note": "cap at fees x2"},
                              headers={**MAX, "If-Match": replied.headers["ETag"]})
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["resolved_by"], resolved.json()["resolution_note"]) == (
        "resolved", "cm-max", "cap at fees x2")
    again = await clm.post(f"{base}/resolution", headers=MAX)
    assert (again.status_code, again.json()["rule"]) == (409, "comment.resolve_only_when_open")
    late = await clm.post(f"{base}/replies", json={"reply_to": first, "text": "But..."}, headers=ANN)
    assert (late.status_code, late.json()["rule"]) == (409, "comment.reply_only_when_open")

    async def projected(open_comments: int):
        record = await _found(projection, f"/contracts/{contract_id}")
        return record if record and record["open_comments"] == open_comments and record["request_state"] else None

    await eventually(lambda: projected(0), timeout=60)
    reopened = await clm.post(f"{base}/reopening", headers=ANN)
    assert (reopened.status_code, reopened.json()["status"], reopened.json()["version"]) == (200, "open", 4)
    twice = await clm.post(f"{base}/reopening", headers=ANN)
    assert (twice.status_code, twice.json()["rule"]) == (409, "comment.reopen_only_when_resolved")
    await eventually(lambda: projected(1), timeout=60)

    # a second thread, on the whole of version 2, resolved
    whole = await clm.post(comments, json={"version_number": 2, "text": "Payment terms?"}, headers=ANN)
    whole_id = whole.json()["thread_id"]
    await clm.post(f"/api/v1/comment-threads/{whole_id}/resolution", headers=LENA)

    got = await _found(clm, f"/comment-threads/{thread_id}")
    assert (got["status"], len(got["comments"]), got["comments"][1]["reply_to"]) == ("open", 2, first)
    listed = lambda query: _found(clm, f"/contracts/{contract_id}/comments{query}")  # noqa: E731
    assert [t["thread_id"] for t in (await listed("?status=open"))["items"]] == [str(thread_id)]
    assert [t["thread_id"] for t in (await listed("?status=resolved&version_number=2"))["items"]] == [whole_id]
    assert [t["thread_id"] for t in (await listed("?clause_number=7.2"))["items"]] == [str(thread_id)]
    page = await listed("?limit=1")
    rest = await listed(f"?limit=1&cursor={page['next_cursor']}")
    assert {page["items"][0]["thread_id"], rest["items"][0]["thread_id"]} == {str(thread_id), whole_id}
    assert (await clm.get(f"/api/v1/contracts/{uuid.uuid4()}/comments", headers=READER)).status_code == 404

    assert await _published(stack, thread_id, 4) == [
        "CommentAdded", "CommentAdded", "CommentThreadResolved", "CommentThreadReopened"]


async def test_the_record_has_the_negotiation_clm_published_in_whatever_order_it_came(services, stack):
    _, projection = services
    story = Negotiation()
    await publish(stack.kafka_admin, story.scrambled())

    async def settled():  # the counts alone may be right early: wait for both deviations as they end
        record = await _found(projection, f"/contracts/{story.contract_id}")
        if record is None or {k: record[k] for k in story.expected()} != story.expected():
            return None
        deviations = await _found(projection, f"/contracts/{story.contract_id}/deviations")
        return record if {(d["deviation_id"], d["cleared_in_version"]) for d in deviations["items"]} == {
            (str(story.open_deviation), None), (str(story.cleared_deviation), 3)} else None

    record = await eventually(settled, timeout=60)
    assert Decimal(record["liability_cap"]) == Decimal("500000")
    opened = await _found(projection, f"/contracts/{story.contract_id}/deviations?status=open")
    assert [(d["deviation_id"], d["term"], d["after"]) for d in opened["items"]] == [
        (str(story.open_deviation), "liability_cap", "EUR 500000")]
    assert await _found(projection, f"/contracts/{uuid.uuid4()}/deviations") is None


async def test_the_negotiation_columns_are_the_same_in_any_order_of_arrival(services):
    """Through the projector as the consumer calls it (without the inbox): in order, reversed,
    shuffled and each twice, the rows come out the same."""
    _, projection = services
    engine = projection.app.state.context.engine
    story = Negotiation()
    envelopes = story.envelopes()

    async def rows_after(order) -> tuple:
        c, d, t = contracts, contract_deviations, contract_comment_threads
        async with UnitOfWork(engine) as uow:
            for table in (c, d, t):
                await uow.conn.execute(sa.delete(table).where(table.c.contract_id == story.contract_id))
            for envelope in order:
                await project(uow, envelope)
            await uow.commit()
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(c).where(c.c.contract_id == story.contract_id))).one()
            deviations = (await conn.execute(sa.select(d).where(d.c.contract_id == story.contract_id)
                                             .order_by(d.c.deviation_id))).all()
            threads = (await conn.execute(sa.select(t).where(t.c.contract_id == story.contract_id)
                                          .order_by(t.c.thread_id))).all()
            return tuple(row), [tuple(r) for r in deviations], [tuple(r) for r in threads]

    in_order = await rows_after(envelopes)
    shuffled = envelopes[:]
    random.Random(3).shuffle(shuffled)
    for order in (envelopes[::-1], shuffled, [e for e in envelopes for _ in range(2)], story.scrambled(5)):
        assert await rows_after(order) == in_order
    record = await _found(projection, f"/contracts/{story.contract_id}")
    assert {k: record[k] for k in story.expected()} == story.expected()
