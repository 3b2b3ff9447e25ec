"""Quotes on real PostgreSQL and Kafka: order sync's /api/v1/quotes as callers meet it (status,
rule and field of each refusal, idempotent creation, the list), `QuoteApproved` on its topic with
every term, and expiry by the scheduler: a Draft quote whose valid-until date ends in its zone
expires once, an approved one does not."""

import asyncio
import datetime as dt
import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from services.lifecycle_scheduler.application.quote_validity import fire_due_quote_timers
from shared.events import topics
from shared.events.envelope import from_kafka
from shared.events.quotes import QuoteApproved
from tests.conftest import bearer, eventually, on_kafka, running_service

pytestmark = pytest.mark.integration

SALES = bearer("sales")
TODAY = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
async def order_sync(service_env):
    async with running_service("order_sync", service_env("order_sync", ALLOW_CLOCK_CONTROL="true")) as client:
        client.app.state.context.clock.set(TODAY)
        yield client


def terms(account_id: str | None = None, **overrides) -> dict:
    return {
        "account": {"account_id": account_id or f"ACC-{uuid.uuid4().hex[:8]}", "name": "ACME Robotics"},
        "opportunity_id": "OPP-4411", "currency": "EUR", "term_months": 36, "billing_frequency": "annual",
        "valid_until": "2026-12-31", "time_zone": "Europe/Berlin", "region": "EU", "industry": "manufacturing",
        "risk_tier": "high", "data_residency": "EU",
        "lines": [{"sku": "SUP-PREM", "product": "Premium support", "quantity": "2", "unit_price": "1200.00",
                   "discount_percent": "10", "start_date": "2027-01-01", "end_date": "2029-12-31"},
                  {"sku": "ONB", "product": "Onboarding", "quantity": 1, "unit_price": "999.99"}],
        **overrides,
    }


async def create(client, **overrides) -> dict:
    response = await client.post("/api/v1/quotes", json=terms(**overrides), headers=SALES)
    assert response.status_code == 201, response.text
    return response.json()


def refused(response, status: int, rule: str, field: str | None = None, field_rule: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule, body
    if field:
        assert body["errors"][0]["field"] == field and body["errors"][0]["rule"] == (field_rule or rule), body
    return body


async def stream(client, stream_id: str) -> list[str]:
    async with client.app.state.context.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event_type FROM events WHERE stream_id = :s ORDER BY version"),
                                  {"s": stream_id})
        return list(rows.scalars())



async def test_an_approved_quote_goes_out_whole_on_kafka_and_changes_no_more(order_sync, stack):
    quote = await create(order_sync)
    assert quote["state"] == "draft" and quote["version"] == 1
    assert [l["net_amount"] for l in quote["lines"]] == ["2160.00", "999.99"]
    assert quote["deal"]["deal_size"] == "3159.99" and quote["deal"]["max_discount_percent"] == "10"
    quote_id = quote["quote_id"]
    approved = await order_sync.post(f"/api/v1/quotes/{quote_id}/approval", headers={**SALES, "If-Match": '"1"'})
    assert approved.status_code == 200 and approved.headers["etag"] == '"2"', approved.text
    assert approved.json()["state"] == "customer_approved"

    envelope = await on_kafka(stack, topics.ORDER_SYNC_QUOTES, quote_id, "QuoteApproved")
    event: QuoteApproved = envelope.event
    expected = {k: v for k, v in quote.items() if k in QuoteApproved.model_fields and k not in ("approved_at", "approved_by")}
    assert event.model_dump(mode="json", exclude={"approved_at", "approved_by"}) == expected
    assert set(QuoteApproved.model_fields) - set(expected) == {"approved_at", "approved_by"}
    assert dt.timedelta(0) <= event.approved_at - TODAY < dt.timedelta(minutes=1)  # order sync's clock
    assert event.approved_by == approved.json()["approved_by"] and event.approved_by

    body = refused(await order_sync.put(f"/api/v1/quotes/{quote_id}", json=terms(), headers=SALES), 409,
                   "quote.approved_immutable")
    assert "approved" in body["detail"]
    refused(await order_sync.post(f"/api/v1/quotes/{quote_id}/rejection", json={"reason": "x"}, headers=SALES), 409,
            "quote.approved_immutable")
    assert await stream(order_sync, quote_id) == ["QuoteDrafted", "QuoteApproved"]


@pytest.mark.parametrize("bad, status, rule, field, field_rule", [
    (dict(currency="XYZ"), 422, "quote.currency_unknown", "currency", None),
    (dict(currency="euro"), 422, "request.invalid", "currency", "string_pattern_mismatch"),
    (dict(time_zone="Mars/Olympus"), 422, "quote.time_zone_unknown", "time_zone", None),
    (dict(valid_until="2026-11-30"), 422, "quote.valid_until_past", "valid_until", None),
    ("negative quantity", 422, "request.invalid", "lines.0.quantity", "greater_than_equal"),
    ("zero quantity", 422, "quote.quantity_not_positive", "lines.0.quantity", None),
    ("discount over 100", 422, "quote.discount_out_of_range", "lines.0.discount_percent", None),
    ("end before start", 422, "quote.line_dates", "lines.0.end_date", None),
])
async def test_bad_input_is_refused_naming_field_and_rule_and_nothing_is_stored(order_sync, bad, status, rule, field,
                                                                               field_rule):
    account_id, quote_id = f"ACC-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    body = terms(account_id)
    if isinstance(bad, dict):
        body |= bad
    else:
        first = body["lines"][0]
        first |= {"negative quantity": {"quantity": -1}, "zero quantity": {"quantity": "0"},
                  "discount over 100": {"discount_percent": "100.5"}, "end before start": {"end_date": "2026-12-31"}}[bad]
    refused(await order_sync.post("/api/v1/quotes", json={**body, "quote_id": quote_id}, headers=SALES),
            status, rule, field, field_rule)
    assert await stream(order_sync, quote_id) == []
    assert (await order_sync.get(f"/api/v1/quotes/{quote_id}", headers=SALES)).status_code == 404
    listed = await order_sync.get("/api/v1/quotes", params={"account_id": account_id}, headers=SALES)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_a_create_retried_with_its_id_is_idempotent(order_sync):
    quote_id = str(uuid.uuid4())
    body = {**terms(), "quote_id": quote_id, "lines": [{**terms()["lines"][0], "line_id": str(uuid.uuid4())}]}
    first = await order_sync.post("/api/v1/quotes", json=body, headers=SALES)
    assert first.status_code == 201 and first.headers["location"] == f"/api/v1/quotes/{quote_id}", first.text
    again = await order_sync.post("/api/v1/quotes", json=body, headers=SALES)
    assert again.status_code == 200 and again.json() == first.json() and again.headers["location"] == first.headers["location"]
    refused(await order_sync.post("/api/v1/quotes", json={**body, "term_months": 12}, headers=SALES), 409,
            "quote.already_exists")
    assert await stream(order_sync, quote_id) == ["QuoteDrafted"]
    got = await order_sync.get(f"/api/v1/quotes/{quote_id}", headers=bearer("legal_counsel"))
    assert got.status_code == 200 and got.headers["etag"] == '"1"' and got.json() == first.json()


async def test_only_sales_and_sales_ops_change_quotes_and_revisions_follow_if_match(order_sync):
    refused(await order_sync.post("/api/v1/quotes", json=terms(), headers=bearer("legal_counsel")), 403, "auth.role_required")
    quote = await create(order_sync)
    url = f"/api/v1/quotes/{quote['quote_id']}"
    revised = await order_sync.put(url, json=terms(quote["account"]["account_id"], term_months=12),
                                   headers={**bearer("sales_ops"), "If-Match": '"1"'})
    assert revised.status_code == 200, revised.text
    assert revised.json()["term_months"] == 12 and revised.json()["number"] == quote["number"] and revised.json()["version"] == 2
    refused(await order_sync.put(url, json=terms(), headers={**SALES, "If-Match": '"1"'}), 409, "stream.version_conflict")
    rejected = await order_sync.post(f"{url}/rejection", json={"reason": "budget cut"}, headers=SALES)
    assert rejected.json()["state"] == "rejected" and rejected.json()["rejection_reason"] == "budget cut"
    refused(await order_sync.post(f"{url}/approval", headers=SALES), 409, "quote.terminal")


async def test_the_list_pages_and_filters(order_sync):
    account_id = f"ACC-{uuid.uuid4().hex[:8]}"
    made = [await create(order_sync, account_id=account_id, opportunity_id=f"OPP-{i % 2}") for i in range(5)]
    await order_sync.post(f"/api/v1/quotes/{made[0]['quote_id']}/approval", headers=SALES)
    ids, cursor = [], None
    while True:
        params = {"account_id": account_id, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await order_sync.get("/api/v1/quotes", params=params, headers=bearer("finance"))).json()
        ids += [q["quote_id"] for q in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert ids == sorted(q["quote_id"] for q in made)
    approved = (await order_sync.get("/api/v1/quotes", params={"account_id": account_id, "state": "customer_approved"},
                                     headers=SALES)).json()["items"]
    assert [(q["quote_id"], q["deal_size"], q["version"]) for q in approved] == [(made[0]["quote_id"], "3159.99", 2)]
    opp = (await order_sync.get("/api/v1/quotes", params={"account_id": account_id, "opportunity_id": "OPP-1"},
                                headers=SALES)).json()["items"]
    assert {q["quote_id"] for q in opp} == {made[1]["quote_id"], made[3]["quote_id"]}
    refused(await order_sync.get("/api/v1/quotes", params={"state": "lost"}, headers=SALES), 422, "request.invalid", "state", "enum")


# -- expiry by the scheduler -------------------------------------------------------------------


async def test_a_draft_quote_expires_once_when_its_validity_ends_and_an_approved_one_does_not(service_env, stack):
    scheduler_env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")
    async with AsyncExitStack() as services:
        order_sync = await services.enter_async_context(
            running_service("order_sync", service_env("order_sync", ALLOW_CLOCK_CONTROL="true")))
        scheduler = await services.enter_async_context(running_service("lifecycle_scheduler", scheduler_env))
        order_sync.app.state.context.clock.set(TODAY)
        scheduler.app.state.context.clock.set(TODAY)
        draft, approved = await create(order_sync), await create(order_sync)
        await order_sync.post(f"/api/v1/quotes/{approved['quote_id']}/approval", headers=SALES)

        async def timer(quote_id: str):
            r = await scheduler.get(f"/api/v1/quotes/{quote_id}/timers", headers=bearer("sre"))
            return r.json() if r.status_code == 200 else None

        view = await eventually(lambda: timer(draft["quote_id"]))
        assert view["timers"] == [{"quote_id": draft["quote_id"], "valid_until": "2026-12-31", "time_zone": "Europe/Berlin",
                                   "due_at": "2026-12-31T23:00:00Z", "fired_at": None}]  # midnight in Berlin
        # the approved quote's timer was set, then dropped by its approval
        await eventually(lambda: _scheduler_saw_every_event_of(order_sync, scheduler, approved["quote_id"]))
        assert await timer(approved["quote_id"]) is None

        ctx = scheduler.app.state.context
        ctx.clock.set(dt.datetime(2026, 12, 31, 22, 50, tzinfo=dt.UTC))
        while await fire_due_quote_timers(ctx):
            pass
        assert await stream(scheduler, draft["quote_id"]) == []  # still 31 December in Berlin
        ctx.clock.set(dt.datetime(2026, 12, 31, 23, 0, 1, tzinfo=dt.UTC))
        await eventually(lambda: _equals(stream(scheduler, draft["quote_id"]), ["QuoteValidityEnded"]))

        async def expired():
            r = await order_sync.get(f"/api/v1/quotes/{draft['quote_id']}", headers=SALES)
            return r.json() if r.json()["state"] == "expired" else None

        got = await eventually(expired, timeout=60)
        assert got["expired_at"] == "2026-12-31T23:00:00Z" and got["version"] == 2
        ctx.clock.set(dt.datetime(2027, 1, 2, tzinfo=dt.UTC))  # later sweeps fire nothing more
        while await fire_due_quote_timers(ctx):
            pass
        await asyncio.sleep(0.5)
        assert await stream(scheduler, draft["quote_id"]) == ["QuoteValidityEnded"]
        assert await stream(order_sync, draft["quote_id"]) == ["QuoteDrafted", "QuoteExpired"]
        assert await stream(scheduler, approved["quote_id"]) == []
        assert (await order_sync.get(f"/api/v1/quotes/{approved['quote_id']}", headers=SALES)).json()["state"] == "customer_approved"
        assert (await timer(draft["quote_id"]))["timers"][0]["fired_at"] is not None
        ended = await on_kafka(stack, topics.LIFECYCLE_QUOTE_DATES, draft["quote_id"], "QuoteValidityEnded")
        assert (ended.event.valid_until, ended.event.time_zone) == (dt.date(2026, 12, 31), "Europe/Berlin")


async def _scheduler_saw_every_event_of(order_sync, scheduler, quote_id: str) -> bool:
    async with order_sync.app.state.context.engine.connect() as conn:
        sent = set((await conn.execute(sa.text("SELECT event_id FROM events WHERE stream_id = :s"), {"s": quote_id})).scalars())
    async with scheduler.app.state.context.engine.connect() as conn:
        query = sa.text("SELECT event_id FROM inbox WHERE consumer = 'lifecycle_scheduler-quotes'")
        seen = set((await conn.execute(query)).scalars())
    return bool(sent) and sent <= seen


async def _equals(value, expected) -> bool:
    return await value == expected


async def test_two_scheduler_replicas_and_a_restart_announce_each_validity_end_once(service_env, stack):
    """Order sync's QuoteDrafted as it publishes them; two replicas sweep; a third scheduler starts
    after the validity of one more quote ended while none ran."""
    from aiokafka import AIOKafkaProducer
    from shared.events.envelope import Envelope, to_kafka
    from services.order_sync.domain.quote import Quote
    from tests.unit.test_quote import entry

    drafted = [Quote.draft(uuid.uuid4(), entry(time_zone=zone), TODAY).pending_events[0]
               for zone in ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland"] * 5]
    late = Quote.draft(uuid.uuid4(), entry(), TODAY).pending_events[0]

    async def publish(*events) -> None:
        producer = AIOKafkaProducer(**stack.kafka_admin.options(), enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                topic, headers, value, key = to_kafka(Envelope(event, stream_version=1))
                await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
        finally:
            await producer.stop()

    env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")
    after = dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC)  # every zone's 31 December has ended
    async with AsyncExitStack() as services:
        one = await services.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await services.enter_async_context(running_service("lifecycle_scheduler", env))
        await publish(*drafted)

        async def all_set():
            return all([(await one.get(f"/api/v1/quotes/{e.quote_id}/timers", headers=bearer("sre"))).status_code == 200
                        for e in drafted])

        await eventually(all_set, timeout=60)
        for replica in (one, two):
            replica.app.state.context.clock.set(after)

        async def all_ended():
            return all([await stream(one, str(e.quote_id)) == ["QuoteValidityEnded"] for e in drafted])

        await eventually(all_ended, timeout=60)
    await publish(late)  # no scheduler runs: it waits on the topic
    async with running_service("lifecycle_scheduler", env) as three:
        three.app.state.context.clock.set(after)
        await eventually(lambda: _equals(stream(three, str(late.quote_id)), ["QuoteValidityEnded"]), timeout=60)
        await asyncio.sleep(0.5)
        for e in drafted:
            assert await stream(three, str(e.quote_id)) == ["QuoteValidityEnded"]

    keys = {str(e.quote_id) for e in [*drafted, late]}
    seen: dict[str, set] = {}
    consumer = AIOKafkaConsumer(topics.LIFECYCLE_QUOTE_DATES, **stack.kafka_admin.options(), group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while len(seen) < len(keys):
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    for m in messages:
                        envelope = from_kafka(m.headers, m.key, m.value)
                        if envelope.key in keys:
                            seen.setdefault(envelope.key, set()).add(envelope.event_id)
            for messages in (await consumer.getmany(timeout_ms=1000)).values():  # anything more would be a second
                for m in messages:
                    envelope = from_kafka(m.headers, m.key, m.value)
                    if envelope.key in keys:
                        seen[envelope.key].add(envelope.event_id)
    finally:
        await consumer.stop()
    assert all(len(ids) == 1 for ids in seen.values()) and set(seen) == keys
