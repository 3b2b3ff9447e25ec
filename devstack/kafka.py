"""A single-node KRaft Kafka broker run straight from the Maven Central jars (no Docker, no tarball).

Clients authenticate: SASL/SCRAM-SHA-512 over SASL_PLAINTEXT (the broker listens on 127.0.0.1
only; production uses SASL_SSL). The SCRAM users (the admin and one per service) are written into
the storage when it is formatted, so a fresh folder is needed when they change. ACLs are enforced
by KRaft's StandardAuthorizer with `allow.everyone.if.no.acl.found=false`; the admin is the super
user, also for the broker's own traffic. The controller listener uses SASL PLAIN with the admin
only, from the configuration (SCRAM credentials live in the metadata the controller serves, so
they cannot guard the controller itself). Who may do what: `services/kafka_access.py`.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from devstack.process import pid_alive, start_detached, stop_pidfile
from shared.backbone.kafka import KafkaAccess, broker_count

ADMIN_USER = "admin"
SCRAM = "SCRAM-SHA-512"

KAFKA_VERSION = "4.1.1"  # keep in step with devstack/pom.xml
POM = Path(__file__).with_name("pom.xml")

LOG4J2 = """\
status = warn
# Kafka stops logging itself; the JVM hook would only warn when registered late during shutdown.
shutdownHook = disable
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
"""


def ensure_kafka_libs(cache_dir: Path | None = None) -> Path:
    """The folder holding the broker's jars, downloaded with Maven unless already complete."""
    if cache_dir is None:
        cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        cache_dir = cache_home / "clm-platform" / f"kafka-{KAFKA_VERSION}" / "libs"
    libs = Path(cache_dir).absolute()
    marker = libs / ".complete"
    stamp = hashlib.sha256(POM.read_bytes()).hexdigest()  # a changed pom means a new download
    if marker.is_file() and marker.read_text() == stamp:
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed once to download the Kafka jars")
    libs.parent.mkdir(parents=True, exist_ok=True)
    # Download next to the target and rename, so an interrupted download never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=".libs-", dir=libs.parent))
    try:
        with tempfile.TemporaryDirectory() as work:
            shutil.copy(POM, Path(work) / "pom.xml")
            res = subprocess.run(
                [mvn, "-B", "-q", "-f", str(Path(work) / "pom.xml"),
                 "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
                 "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"],
                cwd=work, capture_output=True, text=True)
        if res.returncode != 0 or not any(tmp.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"mvn could not fetch the Kafka jars:\n{res.stdout}{res.stderr}")
        (tmp / ".complete").write_text(stamp)
        shutil.rmtree(libs, ignore_errors=True)
        try:
            tmp.rename(libs)
        except OSError:  # another process finished first
            if not (marker.is_file() and marker.read_text() == stamp):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return libs


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _java_bin() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise RuntimeError("java (17+) not found; install it or set JAVA_HOME")
    return java


class LocalKafka:
    def __init__(self, root: Path, port: int, controller_port: int, *, admin_password: str,
                 users: dict[str, str] | None = None, libs_dir: Path | None = None, heap: str = "512m"):
        """`users`: the SCRAM users beside the admin (one per service), name -> password."""
        self.admin_password = admin_password
        self.users = dict(users or {})
        self.root = Path(root).absolute()
        self.port = port
        self.controller_port = controller_port
        self.libs_dir = Path(libs_dir).absolute() if libs_dir else None
        self.heap = heap
        self.data = self.root / "kafka-logs"
        self.log = self.root / "kafka.log"
        self.pid_path = self.root / "kafka.pid"
        self.properties = self.root / "server.properties"
        self.log4j = self.root / "log4j2.properties"
        self.bind_retries = 0  # starts tried again because a port was taken (see start)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def admin(self) -> KafkaAccess:
        """The admin principal's connection (super user)."""
        return self.access(ADMIN_USER, self.admin_password)

    def access(self, user: str, password: str) -> KafkaAccess:
        return KafkaAccess(self.bootstrap, "SASL_PLAINTEXT", SCRAM, user, password)

    def is_running(self) -> bool:
        return pid_alive(self.pid_path) is not None

    def _write_config(self) -> None:
        admin, pw = ADMIN_USER, self.admin_password
        props = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": SCRAM,
            "sasl.mechanism.inter.broker.protocol": SCRAM,
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config":
                f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{admin}" password="{pw}";',
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config":
                f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{admin}" password="{pw}" user_{admin}="{pw}";',
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{admin}",
            "log.dirs": self.data,
            "auto.create.topics.enable": "true",
            "num.partitions": 3,
            "default.replication.factor": 1,
            "min.insync.replicas": 1,
            # Internal topics: one replica, and few partitions so the first consumer group is quick.
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 3,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "transaction.state.log.num.partitions": 3,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "share.coordinator.state.topic.num.partitions": 3,
            "group.initial.rebalance.delay.ms": 0,
            # Projections are rebuilt by replaying topics from the start: never delete data.
            "log.retention.ms": -1,
            "log.retention.bytes": -1,
            # The 128 MB default does not fit a small heap.
            "log.cleaner.dedupe.buffer.size": 2097152,
            "num.network.threads": 2,
            "num.io.threads": 2,
            "num.recovery.threads.per.data.dir": 1,
            "background.threads": 2,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        self.properties.touch(mode=0o600)  # it holds the admin's password
        self.properties.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self.log4j.write_text(LOG4J2)

    def _java_argv(self, libs: Path, main: str, *args: str, jvm: tuple[str, ...] = ()) -> list[str]:
        return [_java_bin(), *jvm, f"-Dlog4j2.configurationFile={self.log4j}", "-cp", f"{libs}/*", main, *args]

    def _format_once(self, libs: Path) -> None:
        if (self.data / "meta.properties").exists():
            return
        # The id may begin with "-", hence --cluster-id=<id>: a separate argument would read as a flag.
        # The cluster id lives in root so that a half-finished format is retried with the same id.
        id_file = self.root / "cluster.id"
        if not id_file.exists():
            id_file.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=") + "\n")
        argv = self._java_argv(libs, "kafka.tools.StorageTool", "format", f"--cluster-id={id_file.read_text().strip()}",
                          "-c", str(self.properties), "--ignore-formatted")
        for user, password in {ADMIN_USER: self.admin_password, **self.users}.items():
            argv += ["--add-scram", f"{SCRAM}=[name={user},password={password}]"]
        res = subprocess.run(argv, cwd=self.root, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"kafka storage format failed:\n{res.stdout}{res.stderr}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "".join(self.log.read_text(errors="replace").splitlines(True)[-lines:])
        except OSError:
            return ""

    def start(self, timeout: float = 90.0) -> str:
        """Format on first use, start the broker unless running, wait until it serves metadata.

        A port in Linux's ephemeral range (32768-60999; the dev and test defaults are below it) may
        be given to a client connection elsewhere as its source port while the broker is down (or a
        client reconnecting to the broker may connect to itself), and the broker cannot bind it until
        that socket closes. A start that fails so is tried again until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            log_size = self.log.stat().st_size if self.log.exists() else 0
            try:
                return self._start_once(deadline)
            except RuntimeError:
                new_lines = self.log.read_bytes()[log_size:] if self.log.exists() else b""
                if b"Address already in use" not in new_lines or time.monotonic() >= deadline:
                    raise
                self.bind_retries += 1
                time.sleep(1.0)

    def _start_once(self, deadline: float) -> str:
        if not self.is_running():
            for port in (self.port, self.controller_port):
                if _port_open(port):
                    raise RuntimeError(f"port {port} is already in use by another process")
            libs = self.libs_dir or ensure_kafka_libs()
            self.root.mkdir(parents=True, exist_ok=True)
            self._write_config()
            self._format_once(libs)
            jvm = (f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true")
            argv = self._java_argv(libs, "kafka.Kafka", str(self.properties), jvm=jvm)
            start_detached("kafka", argv, env=None, cwd=self.root, log_path=self.log, pid_path=self.pid_path)
        while True:
            if not self.is_running():
                raise RuntimeError(f"kafka exited during startup; end of {self.log}:\n{self._log_tail()}")
            try:
                if _port_open(self.port) and asyncio.run(broker_count(self.admin, timeout=2)) > 0:
                    return self.bootstrap
            except Exception:  # not listening, not authenticating yet, or no broker unfenced yet
                pass
            if time.monotonic() >= deadline:
                raise TimeoutError(f"kafka not ready on {self.bootstrap} in time; "
                                   f"end of {self.log}:\n{self._log_tail()}")
            time.sleep(0.25)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (a clean shutdown, data kept), SIGKILL only after timeout."""
        stop_pidfile(self.pid_path, timeout=timeout)
