"""Kafka clients configured the way the platform needs them.

Every client a service creates (the relay's and the dead-letter producers, the consumers, the
admin clients of ensure_topics, readiness and the projection rebuild) takes its connection from one
`KafkaAccess`: the bootstrap servers and, on a secured cluster, the security protocol and the
service's own SASL principal. PLAINTEXT, the default, still reaches an unsecured cluster; the dev and
test brokers and production use SASL/SCRAM-SHA-512 (SASL_SSL in production), one principal per
service, whose ACLs `services/kafka_access.py` derives.
"""

import asyncio
import ssl
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

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


def idempotent_producer(kafka: KafkaAccess, client_id: str) -> AIOKafkaProducer:
    # enable_idempotence forces acks=all and keeps order per partition across internal retries.
    return AIOKafkaProducer(
        **kafka.options(),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=15000,
        retry_backoff_ms=200,
    )


def consumer(kafka: KafkaAccess, *topics: str, **config) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*topics, **kafka.options(), **config)


def admin_client(kafka: KafkaAccess, **config) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**kafka.options(), **config)


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
