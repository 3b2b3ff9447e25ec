"""The real PostgreSQL and Kafka the tests run against, chosen once per session:

1. DATABASE_URL (a superuser DSN) and KAFKA_BOOTSTRAP_SERVERS, when both are set;
2. otherwise testcontainers, when a Docker engine answers;
3. otherwise local processes started from the installed binaries (devstack), under .devstack/test.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from devstack.kafka import LocalKafka
from devstack.postgres import LocalPostgres
from services.catalogue import SERVICES

ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORDS = {s.name: f"test-{s.name}-pw" for s in SERVICES}


@dataclass
class Stack:
    admin_url: str
    kafka_bootstrap: str
    kind: str
    kafka: LocalKafka | None = None  # set when the tests may stop and start the broker
    postgres: LocalPostgres | None = None  # set when the tests may stop and restart the database
    _stoppers: list = field(default_factory=list)

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
        return Stack(os.environ["DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"], "external")
    if _docker_engine_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer("postgres:15", driver=None).start()
        kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft().start()
        stack = Stack(pg.get_connection_url(), kafka.get_bootstrap_server(), "testcontainers")
        stack._stoppers += [pg.stop, kafka.stop]
        return stack
    base = ROOT / ".devstack" / "test"
    pg = LocalPostgres(base / "postgres", port=int(os.environ.get("TEST_PG_PORT", "56432")))
    kafka = LocalKafka(base / "kafka", port=int(os.environ.get("TEST_KAFKA_PORT", "59192")),
                       controller_port=int(os.environ.get("TEST_KAFKA_CONTROLLER_PORT", "59193")))
    # A fresh broker and database each session: tests must not depend on leftovers.
    if not pg.is_running() and not kafka.is_running():
        shutil.rmtree(base, ignore_errors=True)
    admin_url = pg.start()
    try:
        bootstrap = kafka.start()
    except Exception:
        pg.stop()
        raise
    stack = Stack(admin_url, bootstrap, "local-processes", kafka=kafka, postgres=pg)
    stack._stoppers += [pg.stop, kafka.stop]
    return stack
