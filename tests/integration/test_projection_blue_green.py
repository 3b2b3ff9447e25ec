"""A rebuild beside the live read model, while the live projection keeps consuming events that keep
arriving, switches in a read model equal to a fresh replay, with no event missing or doubled; the
live service goes on serving and consuming on the switched-in tables."""

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from services.projection.adapters.contract_records import contracts
from services.projection.application.blue_green import MIGRATIONS, OLD, rebuild_beside
from services.projection.application.rebuild import rebuild
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope, to_kafka
from tests.conftest import bearer, eventually, migrated_schema, running_service
from tests.events_factory import drafted

pytestmark = pytest.mark.integration


ACTIVATED = 100  # contracts drafted and activated; those after them are drafted only


async def _publish_while(kafka, running: asyncio.Event, published: list[Envelope]) -> None:
    """New contracts, a few at a time, until `running` is cleared: the first ACTIVATED drafted and
    activated, the rest drafted only. (The replay beside takes as long as the topics' whole history,
    minutes in a full suite; an activation is work for asset coverage, order sync and the scheduler
    too, a draft only for the projection, so the tests after this one are not left a backlog.)"""
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True, acks="all")
    await producer.start()
    contracts_sent = 0
    try:
        while running.is_set() or len(published) < 200:
            for _ in range(10):
                contract = drafted(uuid.uuid4(), title=f"Blue green {len(published)}")
                contracts_sent += 1
                envelopes = [Envelope(contract, 1)]
                if contracts_sent <= ACTIVATED:
                    envelopes.append(Envelope(ContractActivated(**contract.model_dump()), 2))
                for envelope in envelopes:
                    topic, headers, value, key = to_kafka(envelope)
                    await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
                    published.append(envelope)
            await asyncio.sleep(0.2)
    finally:
        await producer.stop()


async def _rows(engine, ids: list[uuid.UUID]) -> list[tuple]:
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(
            sa.select(contracts).where(contracts.c.contract_id.in_(ids)).order_by(contracts.c.contract_id))]


async def _inbox_count(engine, event_ids: list[uuid.UUID]) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM inbox WHERE consumer = 'projection' "
                                           "AND event_id = ANY(:ids)"), {"ids": event_ids})).scalar_one()


async def test_a_rebuild_beside_the_live_read_model_switches_in_what_a_fresh_replay_gives(service_env, stack):
    env = service_env("projection")
    async with running_service("projection", env) as projection:
        live = projection.app.state.context.engine
        published: list[Envelope] = []
        running = asyncio.Event()
        running.set()
        publishing = asyncio.create_task(_publish_while(stack.kafka_admin, running, published))
        try:
            await eventually(lambda: asyncio.sleep(0, len(published) >= 100), timeout=60)
            applied = await rebuild_beside(live, env["DATABASE_URL"], stack.kafka_for("projection"))
            assert applied > 0
            await asyncio.sleep(1)  # events keep arriving after the switch, on the switched-in tables
        finally:
            running.clear()
            await publishing
        ids = sorted({e.event.contract_id for e in published})
        expected = {e.event.contract_id: "draft" for e in published} | {
            e.event.contract_id: "active" for e in published if isinstance(e.event, ContractActivated)}

        async def all_shown():
            async with live.connect() as conn:
                states = dict(list(await conn.execute(
                    sa.select(contracts.c.contract_id, contracts.c.state).where(contracts.c.contract_id.in_(ids)))))
            return states == expected

        await eventually(all_shown, timeout=60)
        async with live.connect() as conn:  # the live tables were moved aside, not lost
            assert (await conn.execute(sa.text(f"SELECT count(*) FROM {OLD}.contracts"))).scalar_one() > 0
        assert await _inbox_count(live, [e.event_id for e in published]) == len(published)
        one = ids[-1]
        assert (await projection.get(f"/api/v1/contracts/{one}", headers=bearer("finance"))).status_code == 200
        switched = await _rows(live, ids)

    async with migrated_schema(stack, MIGRATIONS, prefix="fresh_replay") as fresh:
        await rebuild(fresh, stack.kafka_admin)
        assert await _rows(fresh, ids) == switched
