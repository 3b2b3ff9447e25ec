"""An event produced to a topic by someone who does not own it is refused by the consumers: a
well-formed ContractActivated for a made-up contract on clm.contracts.v1, from a source other
than contracting, goes to the dead-letter topic and opens no coverage; the same event from
contracting's source opens it."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.backbone.kafka import KafkaAccess, ensure_topics
from shared.events import topics
from shared.events.contracts import ContractActivated
from shared.events.envelope import Envelope, to_kafka
from shared.events.topics import dead_letter_topic
from tests.conftest import bearer, eventually, running_service
from tests.events_factory import drafted

pytestmark = pytest.mark.integration


def _activated(contract_id: uuid.UUID) -> ContractActivated:
    return ContractActivated(**drafted(contract_id).model_dump())


async def _send(kafka: KafkaAccess, envelope: Envelope, source: bytes | None = None) -> None:
    topic, headers, value, key = to_kafka(envelope)
    if source is not None:
        headers = [(n, source if n == "ce_source" else v) for n, v in headers]
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()


async def _dead_letters_for(kafka: KafkaAccess, consumer: str, event_id: uuid.UUID) -> list[dict]:
    reader = AIOKafkaConsumer(dead_letter_topic(consumer), **kafka.options(), group_id=None,
                              auto_offset_reset="earliest")
    await reader.start()
    try:
        found = []
        for messages in (await reader.getmany(timeout_ms=2000)).values():
            found += [dict(m.headers) for m in messages if dict(m.headers).get("ce_id") == str(event_id).encode()]
        return found
    finally:
        await reader.stop()


async def test_an_event_from_a_source_that_does_not_own_the_topic_is_dead_lettered_and_has_no_effect(stack, service_env):
    await ensure_topics(stack.kafka_admin, [topics.CLM_CONTRACTS, dead_letter_topic("asset_coverage")])
    forged_id, genuine_id = uuid.uuid4(), uuid.uuid4()
    forged = Envelope(_activated(forged_id), stream_version=2)
    async with running_service("asset_coverage", service_env("asset_coverage")) as coverage:
        await _send(stack.kafka_admin, forged, source=b"/services/outsider")
        await _send(stack.kafka_admin, Envelope(_activated(genuine_id), stream_version=2))

        async def genuine_opened():
            return (await coverage.get(f"/api/v1/contracts/{genuine_id}/assets", headers=bearer("sre"))).status_code == 200

        await eventually(genuine_opened, timeout=60)

        async def dead_lettered():
            return await _dead_letters_for(stack.kafka_admin, "asset_coverage", forged.event_id)

        letters = await eventually(dead_lettered, timeout=30)
        assert b"does not own" in letters[0]["dlq_reason"]
        assert (await coverage.get(f"/api/v1/contracts/{forged_id}/assets", headers=bearer("sre"))).status_code == 404
