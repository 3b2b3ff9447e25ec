"""Kafka authenticates and authorizes every client (SASL/SCRAM-SHA-512, ACLs from
services/kafka_access.py): without credentials or with a wrong password nothing is produced, and a
service's principal writes only its own topics and reads only those it consumes."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

from shared.backbone.kafka import KafkaAccess
from shared.events import topics
from shared.events.topics import dead_letter_topic

pytestmark = pytest.mark.integration


@pytest.fixture
def secured(stack):
    if not stack.secured:
        pytest.skip("the broker of this run does not authenticate clients (testcontainers or external)")
    return stack


async def _produce(kafka: KafkaAccess, topic: str, timeout: float = 20) -> None:
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True, request_timeout_ms=5000)
    try:
        async with asyncio.timeout(timeout):
            await producer.start()
            await producer.send_and_wait(topic, value=b"not an event", key=uuid.uuid4().bytes)
    finally:
        await producer.stop()


async def test_without_credentials_or_with_a_wrong_password_nothing_is_produced(secured):
    admin = secured.kafka_admin
    anonymous = KafkaAccess(admin.bootstrap_servers)  # PLAINTEXT: no SASL handshake at all
    with pytest.raises((KafkaError, TimeoutError, OSError)):
        await _produce(anonymous, dead_letter_topic("clm"), timeout=10)
    wrong = admin.as_user("clm", "not-the-password")
    with pytest.raises((KafkaError, TimeoutError, OSError)):
        await _produce(wrong, dead_letter_topic("clm"), timeout=10)
    nobody = admin.as_user("intruder", "whatever")
    with pytest.raises((KafkaError, TimeoutError, OSError)):
        await _produce(nobody, topics.CLM_CONTRACTS, timeout=10)


async def test_a_service_principal_writes_only_its_own_topics(secured):
    asset_coverage = secured.kafka_for("asset_coverage")
    await _produce(asset_coverage, dead_letter_topic("asset_coverage"))  # its own: allowed
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(asset_coverage, topics.CLM_CONTRACTS)
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(secured.kafka_for("projection"), topics.CLM_CONTRACTS)


async def _position(kafka: KafkaAccess, topic: str, group: str | None = None, timeout: float = 20) -> int:
    """Where a reader of partition 0 of `topic` starts: ListOffsets needs READ on the topic, and with
    a group its committed offset needs READ on the group. Nothing is written: other tests read these topics."""
    consumer = AIOKafkaConsumer(**kafka.options(), group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        async with asyncio.timeout(timeout):
            await consumer.getmany(partition, timeout_ms=200)
            return await consumer.position(partition)
    finally:
        await consumer.stop()


async def _visible_topics(kafka: KafkaAccess) -> set[str]:
    consumer = AIOKafkaConsumer(**kafka.options())
    await consumer.start()
    try:
        return await consumer.topics()
    finally:
        await consumer.stop()


async def test_a_service_principal_reads_only_the_topics_it_consumes_with_its_own_groups(secured):
    asset_coverage = secured.kafka_for("asset_coverage")
    assert await _position(asset_coverage, topics.CLM_CONTRACTS) >= 0  # it consumes ContractActivated
    assert await _position(asset_coverage, topics.CLM_CONTRACTS, group="asset_coverage") >= 0
    # order sync's install base: not even listed to it, and its offsets never come (the broker answers
    # TOPIC_AUTHORIZATION_FAILED, which aiokafka logs and retries), while the admin reads them.
    assert topics.ORDER_SYNC_INSTALL_BASE not in await _visible_topics(asset_coverage)
    assert topics.ORDER_SYNC_INSTALL_BASE in await _visible_topics(secured.kafka_admin)
    with pytest.raises((TopicAuthorizationFailedError, TimeoutError)):
        await _position(asset_coverage, topics.ORDER_SYNC_INSTALL_BASE, timeout=8)
    assert await _position(secured.kafka_admin, topics.ORDER_SYNC_INSTALL_BASE) >= 0
    with pytest.raises(GroupAuthorizationFailedError):
        await _position(asset_coverage, topics.CLM_CONTRACTS, group="order_sync")  # another service's group


async def test_a_service_principal_reads_back_its_own_topics(secured):
    """Its outbox relay reads back what arrived before a new producer sends (shared/backbone/outbox.py)."""
    assert await _position(secured.kafka_for("order_sync"), topics.ORDER_SYNC_INSTALL_BASE) >= 0
