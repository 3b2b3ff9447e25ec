"""What every fault-injection scenario shares: the load, and the checks after the fault.

The load posts commands to CLM at RATE per second, each in its own task so a slow answer does
not slow the rate: drafts (with a contract id of the client's, so a draft answered 503 or not at
all is retried with the same id and body, as a client following Retry-After would) and
activations of accepted drafts (retried after a 503). Every answer is recorded: 201/200 accept a
command; a 503 must be a problem+json with the rule service.unavailable and a Retry-After; any
other status is a broken rule.

The checks: every event the services stored for the load's contracts is on Kafka exactly once
(by ce_id) and in stream-version order per key, none is dead-lettered; every accepted command's
event is among them; the read model equals one rebuilt from scratch into a schema of its own.
"""

import asyncio
import importlib
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

import asyncpg
import httpx
from aiokafka import TopicPartition

from services.catalogue import SERVICES
from services.projection.application.rebuild import rebuild
from shared.backbone import kafka as kafka_clients
from shared.backbone.kafka import KafkaAccess
from shared.events.envelope import InvalidEnvelope, from_kafka
from shared.events.topics import dead_letter_topic
from tests.conftest import _admin_db_url, bearer, migrated_schema

RATE = 20  # commands per second
COMMANDS = bearer("contract_manager")
SRE = bearer("sre")
FIGURES: list[str] = []  # one line per scenario, printed at the end of the session (conftest.py)


def definitions() -> dict:
    return {s.name: importlib.import_module(f"services.{s.name}.main").definition for s in SERVICES}


def consumer_groups() -> dict[str, list[str]]:
    """Each consumer group of the platform, with its topics."""
    return {sub.name or d.spec.name: sub.topics for d in definitions().values() for sub in d.subscriptions}


def _draft_body(contract_id: uuid.UUID, n: int) -> dict:
    return {"contract_id": str(contract_id), "title": f"Fault load {n}",
            "parties": [{"role": "customer", "name": f"Load Customer {n}"}],
            "start_date": "2026-01-01", "end_date": "2027-12-31", "time_zone": "Europe/Berlin"}


@dataclass
class Load:
    clm: str
    rate: float = RATE
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    broken: list = field(default_factory=list)  # answers breaking the rules: (command, status, body)
    no_answer: list = field(default_factory=list)  # (command, error)
    accepted: dict = field(default_factory=lambda: defaultdict(set))  # contract id -> versions accepted
    accepted_at: list = field(default_factory=list)  # (loop time, contract id, version)
    _drafts: deque = field(default_factory=deque)  # bodies to send again
    _to_activate: deque = field(default_factory=deque)
    _tasks: set = field(default_factory=set)  # the commands in flight
    _n: int = 0

    @property
    def unavailable(self) -> int:
        return self.statuses[503]

    @property
    def accepted_count(self) -> int:
        return len(self.accepted_at)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=300)) as http:
            self._http = http
            i = 0
            while not stop.is_set():
                if i % 2 and self._to_activate:
                    self._spawn(self._activate(self._to_activate.popleft()))
                else:
                    self._spawn(self._draft(self._drafts.popleft() if self._drafts else self._new_draft()))
                i += 1
                await asyncio.sleep(1 / self.rate)
            while self._tasks:
                await asyncio.gather(*self._tasks)

    def burst(self, n: int) -> list[str]:
        """n drafts at once (while `run` goes on); returns their contract ids."""
        bodies = [self._new_draft() for _ in range(n)]
        for body in bodies:
            self._spawn(self._draft(body))
        return [b["contract_id"] for b in bodies]

    def _spawn(self, job) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_draft(self) -> dict:
        self._n += 1
        return _draft_body(uuid.uuid4(), self._n)

    async def _post(self, command: str, url: str, body: dict) -> httpx.Response | None:
        self.sent += 1
        try:
            response = await self._http.post(url, json=body, headers=COMMANDS)
        except httpx.HTTPError as exc:
            self.no_answer.append((command, repr(exc)))
            return None
        self.statuses[response.status_code] += 1
        if response.status_code == 503:
            problem = response.json() if response.headers.get("content-type") == "application/problem+json" else {}
            if problem.get("rule") != "service.unavailable" or not response.headers.get("retry-after"):
                self.broken.append((command, 503, response.text[:300]))
        elif response.status_code not in (200, 201):
            self.broken.append((command, response.status_code, response.text[:300]))
        return response

    def _accept(self, contract_id: str, version: int) -> None:
        self.accepted[contract_id].add(version)
        self.accepted_at.append((asyncio.get_running_loop().time(), contract_id, version))

    async def _draft(self, body: dict) -> None:
        response = await self._post("draft", f"{self.clm}/api/v1/contracts", body)
        if response is None or response.status_code == 503:
            self._drafts.append(body)  # the same id again: 201 if nothing was kept, 200 if it was
        elif response.status_code in (200, 201):
            self._accept(body["contract_id"], 1)
            self._to_activate.append(body["contract_id"])

    async def _activate(self, contract_id: str) -> None:
        response = await self._post("activate", f"{self.clm}/api/v1/contracts/{contract_id}/activation",
                                    {"expected_version": 1})
        if response is not None and response.status_code == 503:
            self._to_activate.append(contract_id)
        elif response is not None and response.status_code == 200:
            self._accept(contract_id, 2)

    def accepted_before(self, instant: float) -> dict[str, set[int]]:
        found = defaultdict(set)
        for at, contract_id, version in self.accepted_at:
            if at <= instant:
                found[contract_id].add(version)
        return found

    def assert_rules_kept(self) -> None:
        assert self.broken == [], f"answers breaking the rules: {self.broken[:5]}"
        assert self.no_answer == [], f"requests without an answer: {self.no_answer[:5]}"
        assert set(self.statuses) <= {200, 201, 503}, self.statuses


# --- the state of the platform, read from its databases and Kafka ---

async def _db(stack) -> asyncpg.Connection:
    return await asyncpg.connect(_admin_db_url(stack))


async def ready(urls: dict[str, str]) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        for url in urls.values():
            try:
                if (await http.get(f"{url}/readyz")).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
    return True


async def read_model_shows(stack, accepted: dict[str, set[int]]) -> bool:
    """The projection's rows show every accepted command: a row for each draft; active, with the
    scheduler's expiry, for each activation."""
    if not accepted:
        return True
    conn = await _db(stack)
    try:
        rows = {str(r["contract_id"]): r for r in await conn.fetch(
            "SELECT contract_id, state, expires_at FROM projection.contracts WHERE contract_id = ANY($1::uuid[])",
            list(accepted))}
    finally:
        await conn.close()
    for contract_id, versions in accepted.items():
        row = rows.get(contract_id)
        if row is None or (2 in versions and (row["state"] != "active" or row["expires_at"] is None)):
            return False
    return True


async def outboxes_empty(urls: dict[str, str]) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        for url in urls.values():
            r = await http.get(f"{url}/api/v1/ops/outbox", headers=SRE)
            if r.status_code != 200 or r.json()["unpublished"]:
                return False
    return True


async def _partitions(kafka: KafkaAccess, topics: list[str]) -> list[TopicPartition]:
    admin = kafka_clients.admin_client(kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described if not t["error_code"] for p in t["partitions"]]


async def _end_offsets(kafka: KafkaAccess, partitions: list[TopicPartition]) -> dict:
    consumer = kafka_clients.consumer(kafka, enable_auto_commit=False, group_id=f"faults-ends-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def consumers_caught_up(kafka: KafkaAccess) -> bool:
    """Every consumer group of the platform has committed up to the end of its topics."""
    groups = consumer_groups()
    partitions = await _partitions(kafka, sorted({t for ts in groups.values() for t in ts}))
    ends = await _end_offsets(kafka, partitions)
    admin = kafka_clients.admin_client(kafka)
    await admin.start()
    try:
        for group, group_topics in groups.items():
            committed = {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group)).items()}
            for tp in partitions:
                if tp.topic in group_topics and ends[tp] > 0 and committed.get(tp, -1) < ends[tp]:
                    return False
    finally:
        await admin.close()
    return True


async def read_topics(kafka: KafkaAccess, topics: list[str], keys: set[str]) -> list[tuple]:
    """(topic, partition, offset, key, Envelope | None) of every message keyed by one of `keys`,
    from the beginning to the end offsets as of now (None: not one of our CloudEvents)."""
    partitions = await _partitions(kafka, topics)
    consumer = kafka_clients.consumer(kafka, enable_auto_commit=False, group_id=f"faults-read-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    found = []
    try:
        if not partitions:
            return found
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=2000)
            for tp, messages in batches.items():
                for m in messages:
                    key = m.key.decode() if m.key else None
                    if m.offset < end[tp] and key in keys:
                        try:
                            envelope = from_kafka(m.headers, m.key, m.value, tp.topic)
                        except InvalidEnvelope:
                            envelope = None
                        found.append((tp.topic, tp.partition, m.offset, key, envelope))
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return found


async def assert_published_exactly_once_in_order(stack, load: Load) -> int:
    """Returns how many events of the load's contracts the services stored (all on Kafka once)."""
    ids = set(load.accepted)
    defs = definitions()
    conn = await _db(stack)
    stored = {}  # event id -> (service, stream id, version)
    try:
        for name, d in defs.items():
            if not d.produces:
                continue
            for r in await conn.fetch(
                    f"SELECT stream_id, version, event_id FROM {d.spec.schema}.events WHERE right(stream_id, 36) = ANY($1)",
                    list(ids)):
                stored[str(r["event_id"])] = (name, r["stream_id"], r["version"])
    finally:
        await conn.close()
    clm_versions = {(s, v) for n, s, v in stored.values() if n == "clm"}
    missing = [(c, v) for c, vs in load.accepted.items() for v in vs if (c, v) not in clm_versions]
    assert missing == [], f"accepted commands without their event in CLM's store: {missing[:5]}"

    produced = sorted({t for d in defs.values() for t in d.produces})
    found = await read_topics(stack.kafka_admin, produced, ids)
    assert [f for f in found if f[4] is None] == [], "messages of the load's keys that are not our events"
    published = Counter(str(f[4].event_id) for f in found)
    twice = [e for e, n in published.items() if n > 1]
    assert twice == [], (f"{len(twice)} events published more than once, e.g. (service, stream, version: "
                         f"[(topic, partition, offset)]) " + "; ".join(
                             f"{stored.get(e)}: {[f[:3] for f in found if str(f[4].event_id) == e]}" for e in twice[:5]))
    lost = set(stored) - set(published)
    assert not lost, f"{len(lost)} stored events never published, e.g. {[stored[e] for e in list(lost)[:5]]}"
    assert set(published) <= set(stored), "published events of the load's keys that no service stored"
    by_stream: dict[tuple, list[int]] = defaultdict(list)
    for topic, partition, offset, key, envelope in sorted(found, key=lambda f: f[:3]):
        name, stream_id, version = stored[str(envelope.event_id)]
        assert envelope.stream_version == version
        by_stream[(topic, stream_id)].append(version)
    for stream, versions in by_stream.items():
        assert versions == list(range(1, len(versions) + 1)), f"{stream} out of order on Kafka: {versions}"

    letters = await read_topics(stack.kafka_admin, [dead_letter_topic(g) for g in consumer_groups()], ids)
    assert letters == [], f"dead-lettered: {letters[:3]}"
    return len(stored)


_READ_MODEL = ("contracts", "contract_assets", "service_contracts", "contract_lines", "entitlements")


async def _snapshot(conn: asyncpg.Connection, schema: str, ids: list[str]) -> dict[str, list]:
    return {table: sorted((tuple(r) for r in await conn.fetch(
        f"SELECT * FROM {schema}.{table} WHERE contract_id = ANY($1::uuid[])", ids)), key=repr)
        for table in _READ_MODEL}


async def assert_read_model_equals_rebuild(stack, load: Load) -> int:
    """Rebuilds the read model from scratch (the projection's rebuild, all topics replayed from
    the beginning) into a schema of its own, with the live consumer running on; compares the
    rows of the load's contracts. Returns how many events the rebuild applied."""
    from services.projection.main import definition

    ids = list(load.accepted)
    async with migrated_schema(stack, definition.versions_dir, "faults_rebuild") as engine:
        applied = await rebuild(engine, stack.kafka_for("projection"))
        async with engine.connect() as c:
            schema = (await c.exec_driver_sql("SELECT current_schema()")).scalar()
        conn = await _db(stack)
        try:
            live = await _snapshot(conn, "projection", ids)
            rebuilt = await _snapshot(conn, schema, ids)
        finally:
            await conn.close()
    assert len(live["contracts"]) == len(ids)
    for table in _READ_MODEL:
        assert live[table] == rebuilt[table], f"{table}: the read model differs from its rebuild"
    return applied
