import asyncio
import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

from services.catalogue import DATABASE_NAME, by_name
from shared.backbone.auth import issue_token
from shared.backbone.database import create_engine
from shared.backbone.migrations import upgrade_to_head
from shared.events.envelope import Envelope, from_kafka
from services.provision import provision, service_database_url
from devstack.smtp import LocalSmtp
from tests.stack import ROOT, TEST_PASSWORDS, start_stack

JWT_SECRET = "test-secret-not-for-production-use-0123456789"
FIXTURES = Path(__file__).parent / "fixtures"


def token(*roles: str, subject: str = "tester") -> str:
    return issue_token(JWT_SECRET, subject, list(roles))


def bearer(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles)}"}


@pytest.fixture(scope="session")
def stack():
    stack = start_stack()
    asyncio.run(provision(stack.admin_url, TEST_PASSWORDS))
    yield stack
    stack.close()


TEST_SMTP_PORT = 26425  # below the ephemeral range, as the database's and broker's are


@pytest.fixture(scope="session")
def smtp_server():
    """The session's SMTP server (aiosmtpd, a local process like the database and the broker):
    `smtp_server.mailbox` reads every mail it received."""
    server = LocalSmtp(ROOT / ".devstack" / "test" / "smtp", port=int(os.environ.get("TEST_SMTP_PORT", TEST_SMTP_PORT)))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def service_env(stack, smtp_server):
    """The environment a service process needs, by service name (the scheduler and clm, which mails
    signing links, use the session's SMTP server)."""

    def env(name: str, **extra: str) -> dict[str, str]:
        spec = by_name(name)
        smtp = {"SMTP_HOST": smtp_server.host, "SMTP_PORT": str(smtp_server.port)} \
            if name in ("lifecycle_scheduler", "clm") else {}
        return {
            "DATABASE_URL": service_database_url(stack.admin_url, spec, TEST_PASSWORDS[name]),
            **stack.kafka_env(name),
            "AUTH_JWT_SECRET": JWT_SECRET,
            "LOG_LEVEL": "WARNING",
            **smtp,
            **extra,
        }

    return env


def _admin_db_url(stack) -> str:
    return stack.admin_url.rsplit("/", 1)[0] + f"/{DATABASE_NAME}"


async def _admin_execute(stack, statement: str) -> None:
    admin = await asyncpg.connect(_admin_db_url(stack))
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@asynccontextmanager
async def migrated_schema(stack, versions_dir: Path | None, prefix: str = "scratch", **engine_options):
    """An engine on a fresh schema (its search_path), migrated to head with the revisions in
    `versions_dir` (left empty without); the schema is dropped afterwards. The engine is the
    services' (shared/backbone/database.py), with `engine_options` for SQLAlchemy; no other
    connection stays open meanwhile, so a test may restart the database under it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin_execute(stack, f"CREATE SCHEMA {schema}")
    url = _admin_db_url(stack).replace("postgresql://", "postgresql+asyncpg://")
    engine = create_engine(url, search_path=schema, **engine_options)
    try:
        if versions_dir is not None:
            await upgrade_to_head(engine, schema, versions_dir)
        yield engine
    finally:
        await engine.dispose()
        await _admin_execute(stack, f"DROP SCHEMA {schema} CASCADE")


@pytest_asyncio.fixture
async def scratch_engine(stack):
    """An engine on a fresh schema holding only the backbone tables (and `effects`)."""
    async with migrated_schema(stack, FIXTURES / "backbone_migrations") as engine:
        yield engine


@asynccontextmanager
async def running_service(name: str, env: dict[str, str]):
    """Runs a service in-process (its lifespan: migrations, relay, consumers) behind an httpx client."""
    import importlib

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        module = importlib.import_module(f"services.{name}.main")
        from shared.backbone.app import create_app

        app = create_app(module.definition)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                client.app = app
                yield client
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def events_on_kafka(stack, topic: str, keys: set[str], event_type: str, timeout: float = 60) -> dict[str, Envelope]:
    """The first `event_type` published under each of `keys` on `topic`, read from the beginning
    as the admin (fails after `timeout` seconds without all of them)."""
    found: dict[str, Envelope] = {}
    consumer = AIOKafkaConsumer(topic, **stack.kafka_admin.options(), group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            while set(found) != keys:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    for m in messages:  # other tests' messages, forged ones among them, are not read
                        if m.key is None or m.key.decode(errors="replace") not in keys:
                            continue
                        envelope = from_kafka(m.headers, m.key, m.value)
                        if envelope.event.event_type == event_type:
                            found.setdefault(envelope.key, envelope)
    finally:
        await consumer.stop()
    return found


async def on_kafka(stack, topic: str, key: str, event_type: str) -> Envelope:
    return (await events_on_kafka(stack, topic, {key}, event_type))[key]


async def eventually(check, timeout: float = 30.0, interval: float = 0.2):
    """Polls `check` (async, returns a truthy value when done) until it passes or time runs out."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while True:
        try:
            result = await check()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s" + (f": {last}" if last else ""))
        await asyncio.sleep(interval)


def _wait_until_ready(pg, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not pg.accepts_connections():
        if time.monotonic() > deadline:
            raise TimeoutError(f"postgres on port {pg.port} not ready within {timeout}s")
        time.sleep(0.2)


@pytest.fixture
def database(stack):
    """The session's PostgreSQL, to stop and restart; up and accepting connections afterwards
    (a smart shutdown left waiting is finished fast)."""
    if stack.postgres is None:
        pytest.skip(f"the database is {stack.kind}: these tests must restart it themselves")
    yield stack.postgres
    if not stack.postgres.accepts_connections():
        stack.postgres.stop("fast", 60)
        stack.postgres.start()
    _wait_until_ready(stack.postgres)


@pytest.fixture
def broker(stack):
    if stack.kafka is None:
        pytest.skip(f"the broker is {stack.kind}: these tests must stop and start it themselves")
    yield stack.kafka
    stack.kafka.start()
