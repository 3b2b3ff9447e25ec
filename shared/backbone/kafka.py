"""Kafka clients configured the way the platform needs them.

Every client a service creates (the relay's and the dead-letter producers, the consumers, the
admin clients of ensure_topics, readiness and the projection rebuild) takes its connection from one
`KafkaAccess`: the bootstrap servers and, on a secured cluster, the security protocol and the
service's own SASL principal. PLAINTEXT, the default, still reaches an unsecured cluster; the dev and
test brokers and production use SASL/SCRAM-SHA-512 (SASL_SSL in production), one principal per
service, whose ACLs `services/kafka_access.py` derives.

Every client is made here (`idempotent_producer`, `consumer`, `admin_client`), and each one's
metadata refresh backs off while it fails (`_back_off_failed_metadata_refresh`): without that, a
client whose broker is down can try to connect thousands of times a second.
"""

import asyncio
import random
import ssl
from dataclasses import dataclass, field

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.backbone.outages import retry_delay

SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class KafkaAccess:
    """Where the brokers are and who this client is (`KAFKA_*` settings)."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None

    def options(self) -> dict:
        """The keyword arguments every aiokafka client takes for the connection."""
        options: dict = {"bootstrap_servers": self.bootstrap_servers, "security_protocol": self.security_protocol}
        if self.security_protocol in SASL_PROTOCOLS:
            options |= {"sasl_mechanism": self.sasl_mechanism, "sasl_plain_username": self.sasl_username,
                        "sasl_plain_password": self.sasl_password}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile) if self.ssl_cafile else ssl.create_default_context()
        return options

    def as_user(self, username: str, password: str) -> "KafkaAccess":
        return KafkaAccess(self.bootstrap_servers, self.security_protocol, self.sasl_mechanism, username, password,
                           self.ssl_cafile)


# A failed metadata refresh is answered after 0.1 s, 0.2 s, 0.4 s ... at most 1 s (±20%) while the
# failures go on; the first success ends it. So a client whose broker is down tries it about once a
# second, and notices its return within about a second.
METADATA_RETRY_BACKOFF = 0.1
METADATA_RETRY_BACKOFF_MAX = 1.0


def _back_off_failed_metadata_refresh(client: AIOKafkaClient) -> None:
    """Makes `client` wait before it reports a failed metadata refresh, longer while they fail.

    Why: aiokafka (0.14) refreshes metadata in one background task, woken by whoever wants fresh
    metadata; a refresh whose broker refuses the connection fails at once. A consumer's fetcher, or
    a producer's sender, holding metadata with a partition without a leader (what the broker's last
    answer says while it shuts down) asks for a refresh, waits for it and asks again, with no pause
    in that loop; nor has aiokafka a reconnect backoff (Java's reconnect.backoff.ms). So while the
    broker was down, a service whose client had seen it shutting down connected to its port 500 to
    2000 times a second (tests/faults/reconnect_rate.py), burning a core, and with the port in the
    ephemeral range a connection now and then got the port itself as its source and connected to
    itself, keeping the broker from binding it on restart. Backing off where the refresh fails
    throttles every such loop at once, whichever part of aiokafka runs it, and costs a healthy
    client nothing. tests/unit/test_kafka_reconnect_rate.py holds the bound."""
    refresh = client._metadata_update  # the one place every metadata request of the client goes through
    failures = 0

    async def refresh_backing_off(cluster_metadata, topics):
        nonlocal failures
        updated = await refresh(cluster_metadata, topics)
        if updated:
            failures = 0
        else:
            failures += 1
            delay = retry_delay(failures, METADATA_RETRY_BACKOFF, METADATA_RETRY_BACKOFF_MAX)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        return updated

    client._metadata_update = refresh_backing_off


def idempotent_producer(kafka: KafkaAccess, client_id: str) -> AIOKafkaProducer:
    # enable_idempotence forces acks=all and keeps order per partition across internal retries.
    producer = AIOKafkaProducer(
        **kafka.options(),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        # 16 KiB (aiokafka's default) is ~50 of our events: a busy relay's round went out in many
        # small produce requests. Below the broker's 1 MiB message.max.bytes and max_request_size.
        max_batch_size=512 * 1024,
        request_timeout_ms=15000,
        retry_backoff_ms=200,
    )
    _back_off_failed_metadata_refresh(producer.client)
    return producer


def consumer(kafka: KafkaAccess, *topics: str, **config) -> AIOKafkaConsumer:
    client = AIOKafkaConsumer(*topics, **kafka.options(), **config)
    _back_off_failed_metadata_refresh(client._client)
    return client


def admin_client(kafka: KafkaAccess, **config) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(**kafka.options(), **config)
    _back_off_failed_metadata_refresh(admin._client)
    return admin


async def ensure_topics(kafka: KafkaAccess, topics: list[str], partitions: int = 3, replication: int = 1) -> None:
    """Creates those of `topics` that do not exist. On a secured cluster a principal creates only
    the topics it has CREATE on (its own); the broker refuses the others one by one, quietly."""
    admin = admin_client(kafka, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def broker_count(kafka: KafkaAccess, timeout: float = 3.0) -> int:
    """How many brokers the cluster lists to this client (> 0 once one is unfenced); raises when
    the cluster cannot be reached or refuses this client."""
    admin = admin_client(kafka, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        return len(cluster["brokers"])
    finally:
        try:
            await admin.close()
        except Exception:
            pass


async def broker_reachable(kafka: KafkaAccess, timeout: float = 3.0) -> bool:
    try:
        return await broker_count(kafka, timeout) > 0
    except Exception:
        return False
