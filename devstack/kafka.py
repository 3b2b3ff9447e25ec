"""A single-node KRaft Kafka broker run straight from the Maven Central jars (no Docker, no tarball)."""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from devstack.process import pid_alive, start_detached, stop_pidfile

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


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def _broker_count(host: str, port: int) -> int:
    """Brokers listed by a raw Metadata v4 request (no topics): > 0 once the broker is unfenced."""
    client = b"devstack"
    msg = struct.pack(">hhih", 3, 4, 1, len(client)) + client + struct.pack(">ib", 0, 0)
    with socket.create_connection((host, port), timeout=2) as sock:
        sock.sendall(struct.pack(">i", len(msg)) + msg)
        size, = struct.unpack(">i", _recv_exact(sock, 4))
        _correlation, _throttle, brokers = struct.unpack(">iii", _recv_exact(sock, size)[:12])
    return brokers


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
    def __init__(self, root: Path, port: int, controller_port: int, libs_dir: Path | None = None,
                 heap: str = "512m"):
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

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def is_running(self) -> bool:
        return pid_alive(self.pid_path) is not None

    def _write_config(self) -> None:
        props = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
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
        res = subprocess.run(argv, cwd=self.root, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"kafka storage format failed:\n{res.stdout}{res.stderr}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "".join(self.log.read_text(errors="replace").splitlines(True)[-lines:])
        except OSError:
            return ""

    def start(self, timeout: float = 90.0) -> str:
        """Format on first use, start the broker unless running, wait until it serves metadata."""
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
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_running():
                raise RuntimeError(f"kafka exited during startup; end of {self.log}:\n{self._log_tail()}")
            try:
                if _broker_count("127.0.0.1", self.port) > 0:
                    return self.bootstrap
            except (OSError, struct.error):
                pass
            if time.monotonic() >= deadline:
                raise TimeoutError(f"kafka not ready on {self.bootstrap} after {timeout:g}s; "
                                   f"end of {self.log}:\n{self._log_tail()}")
            time.sleep(0.25)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (a clean shutdown, data kept), SIGKILL only after timeout."""
        stop_pidfile(self.pid_path, timeout=timeout)
