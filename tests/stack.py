"""The real PostgreSQL and Kafka the tests run against, chosen once per session:

1. DATABASE_URL (a superuser DSN) and KAFKA_BOOTSTRAP_SERVERS, when both are set;
2. otherwise testcontainers, when a Docker engine answers;
3. otherwise local processes started from the installed binaries (devstack), under .devstack/test.

The local broker authenticates every client (SASL/SCRAM, one principal per service, ACLs from
services/kafka_access.py, its admin creating every topic up front): `kafka_admin` is the admin's
connection, for tests that produce and consume directly; `kafka_for(service)` a service's own.
An external cluster is reached with KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* of the environment
(one principal for all), testcontainers' broker without authentication.
"""

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from devstack.kafka import LocalKafka
from devstack.postgres import LocalPostgres
from services import kafka_access
from services.catalogue import SERVICES
from shared.backbone.kafka import KafkaAccess
from shared.backbone.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORDS = {s.name: f"test-{s.name}-pw" for s in SERVICES}
TEST_KAFKA_PASSWORDS = {s.name: f"test-{s.name}-kafka-pw" for s in SERVICES}
TEST_KAFKA_ADMIN_PASSWORD = "test-admin-kafka-pw"
# Below Linux's ephemeral range (32768-60999, /proc/sys/net/ipv4/ip_local_port_range), as the dev
# stack's are: a port in it may be handed to some outgoing connection as its source port while
# the broker or the database is down, and then it cannot bind it again until that socket is gone.
TEST_PG_PORT, TEST_KAFKA_PORT, TEST_KAFKA_CONTROLLER_PORT = 26432, 29192, 29193


@dataclass
class Stack:
    admin_url: str
    kafka_bootstrap: str
    kind: str
    kafka: LocalKafka | None = None  # set when the tests may stop and start the broker
    postgres: LocalPostgres | None = None  # set when the tests may stop and restart the database
    kafka_admin: KafkaAccess | None = None  # a super user's connection (PLAINTEXT when unsecured)
    secured: bool = False  # True when each service has its own principal and ACLs
    _stoppers: list = field(default_factory=list)

    def __post_init__(self):
        if self.kafka_admin is None:
            self.kafka_admin = KafkaAccess(self.kafka_bootstrap)

    def kafka_for(self, service: str) -> KafkaAccess:
        """The connection of `service`'s principal (the admin's where there is one principal)."""
        if not self.secured:
            return self.kafka_admin
        return self.kafka_admin.as_user(service, TEST_KAFKA_PASSWORDS[service])

    def kafka_env(self, service: str) -> dict[str, str]:
        """The KAFKA_* environment of `service`."""
        access = self.kafka_for(service)
        env = {"KAFKA_BOOTSTRAP_SERVERS": access.bootstrap_servers, "KAFKA_SECURITY_PROTOCOL": access.security_protocol}
        if access.sasl_username:
            env |= {"KAFKA_SASL_MECHANISM": access.sasl_mechanism, "KAFKA_SASL_USERNAME": access.sasl_username,
                    "KAFKA_SASL_PASSWORD": access.sasl_password or ""}
        if access.ssl_cafile:
            env["KAFKA_SSL_CAFILE"] = access.ssl_cafile
        return env

    def close(self) -> None:
        for stop in reversed(self._stoppers):
            stop()


def _docker_engine_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_stack() -> Stack:
    if os.environ.get("DATABASE_URL") and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        admin = ServiceSettings(database_url=os.environ["DATABASE_URL"]).kafka()  # KAFKA_* of the environment
        return Stack(os.environ["DATABASE_URL"], admin.bootstrap_servers, "external", kafka_admin=admin)
    if _docker_engine_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer("postgres:15", driver=None).start()
        kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft().start()
        stack = Stack(pg.get_connection_url(), kafka.get_bootstrap_server(), "testcontainers")
        stack._stoppers += [pg.stop, kafka.stop]
        return stack
    base = ROOT / ".devstack" / "test"
    pg = LocalPostgres(base / "postgres", port=int(os.environ.get("TEST_PG_PORT", str(TEST_PG_PORT))))
    kafka = LocalKafka(base / "kafka", port=int(os.environ.get("TEST_KAFKA_PORT", str(TEST_KAFKA_PORT))),
                       controller_port=int(os.environ.get("TEST_KAFKA_CONTROLLER_PORT", str(TEST_KAFKA_CONTROLLER_PORT))),
                       admin_password=TEST_KAFKA_ADMIN_PASSWORD, users=TEST_KAFKA_PASSWORDS)
    # A fresh broker and database each session: tests must not depend on leftovers.
    if not pg.is_running() and not kafka.is_running():
        shutil.rmtree(base, ignore_errors=True)
    admin_url = pg.start()
    try:
        bootstrap = kafka.start()
        asyncio.run(kafka_access.provision(kafka.admin))
        asyncio.run(_until_acls_apply(kafka.admin))
    except Exception:
        pg.stop()
        raise
    stack = Stack(admin_url, bootstrap, "local-processes", kafka=kafka, postgres=pg, kafka_admin=kafka.admin,
                  secured=True)
    stack._stoppers += [pg.stop, kafka.stop]
    return stack


async def _until_acls_apply(admin, timeout: float = 60) -> None:
    """The controller accepts the ACLs before the broker's authorizer has them: a test that runs
    first would be refused (ClusterAuthorizationFailed) by what provisioning just allowed. They are
    created in one request; once one service sees its topics, every service's ACLs are in force."""
    from aiokafka import AIOKafkaConsumer

    service = SERVICES[-1].name
    expected = set(kafka_access.produced_topics(service))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        consumer = AIOKafkaConsumer(**admin.as_user(service, TEST_KAFKA_PASSWORDS[service]).options())
        await consumer.start()
        try:
            if expected <= await consumer.topics():
                return
        finally:
            await consumer.stop()
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the broker did not apply the ACLs of {service} within {timeout}s")
        await asyncio.sleep(0.5)
