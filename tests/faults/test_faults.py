"""Fault injection: the platform, every service a process of its own, under a load of commands
(harness.py: ~20 per second on CLM, each activation fanning out to asset coverage, order sync,
the scheduler and the read model), while a dependency fails:

1. the broker is stopped for 30 s, then started;
2. the projection (a consumer) is SIGKILLed amid a burst, mid-batch, then started again;
3. PostgreSQL is restarted: a smart shutdown, and a fast one with the database down 5 s;
4. PostgreSQL and the broker are stopped at once and started at once.

Each asserts: no 5xx but 503 while degraded, each 503 a problem+json with the rule
service.unavailable and a Retry-After; every event stored for the load's contracts, so every
accepted command's, on Kafka exactly once and in stream-version order per key, none
dead-lettered; the read model equal to one rebuilt from scratch; recovery with no service
restarted (but the one killed in 2). The figures (commands sent, accepted, 503s, how long until
every service was ready and the read model showed what was accepted before the fault ended) are
printed at the end of the session.

The scenarios stop the session's PostgreSQL and broker; the `database` and `broker` fixtures
leave both up for the tests after them.
"""

import asyncio
import os
import socket
from contextlib import contextmanager

import asyncpg
import httpx
import pytest

from tests.conftest import _admin_db_url, eventually
from tests.stack import TEST_KAFKA_PORT
from tests.faults.harness import (
    FIGURES, Load, assert_published_exactly_once_in_order, assert_read_model_equals_rebuild, consumers_caught_up,
    outboxes_empty, read_model_shows, ready,
)

pytestmark = pytest.mark.faults

BROKER_DOWN_SECONDS = 30  # as in the issue


def _in_ephemeral_range(port: int) -> bool:
    try:
        low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    except OSError:
        return False
    return low <= port <= high


# Only for a TEST_KAFKA_PORT set in the ephemeral range (the default is below it): while the broker
# is down, the services' clients keep reconnecting (about 60 connects/s between them; 500-2000/s
# per service before shared/backbone/kafka.py backed off failed metadata refreshes), each from the
# next source port, and in the moments the port is free (before it is held, between the hold and
# the broker's bind) one may be given the broker's port itself and connect to itself; the socket it
# leaves in TIME_WAIT keeps the broker from binding its port for up to 60 s.
_broker_restartable = pytest.mark.skipif(
    _in_ephemeral_range(int(os.environ.get("TEST_KAFKA_PORT", str(TEST_KAFKA_PORT)))),
    reason="TEST_KAFKA_PORT is in the ephemeral port range: a reconnecting client may take it as its source "
           "port and block the broker's restart; leave it unset (29192) or set one below the range")

LOAD_BEFORE, LOAD_AFTER = 3.0, 3.0  # seconds of load before the fault and after recovery


async def _not_ready(url: str, dependency: str) -> bool:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{url}/readyz")
    return r.status_code == 503 and r.json()["checks"][dependency] is False


async def _run(name: str, stack, platform, fault, restarted: tuple[str, ...] = ()) -> None:
    """Load, `fault` (returns notes for the figures once the fault is over), recovery, checks."""
    pids = platform.pids()
    loop = asyncio.get_running_loop()
    load, stop = Load(platform.urls["clm"]), asyncio.Event()
    running = asyncio.create_task(load.run(stop))
    try:
        await asyncio.sleep(LOAD_BEFORE)
        began = loop.time()
        notes = await fault(load)
        ended = loop.time()
        accepted_by_then = load.accepted_before(ended)
        await eventually(lambda: ready(platform.urls), timeout=120, interval=0.2)
        ready_at = loop.time()
        await eventually(lambda: read_model_shows(stack, accepted_by_then), timeout=120, interval=0.2)
        caught_up_at = loop.time()
        await asyncio.sleep(LOAD_AFTER)
    finally:
        stop.set()
        await running
    load.assert_rules_kept()

    async def settled():
        return (await outboxes_empty(platform.urls) and await consumers_caught_up(stack.kafka_admin)
                and await read_model_shows(stack, load.accepted))

    for _ in range(2):  # twice, a second apart: nothing was still on its way between two services
        await eventually(settled, timeout=120, interval=0.5)
        await asyncio.sleep(1)
    events = await assert_published_exactly_once_in_order(stack, load)
    replayed = await assert_read_model_equals_rebuild(stack, load)
    after = platform.pids()
    assert {n: p for n, p in after.items() if n not in restarted} == {n: p for n, p in pids.items() if n not in restarted}, \
        "a service was restarted or died"
    line = (f"{name}: {load.sent} commands sent, {load.accepted_count} accepted, {load.unavailable} answered 503; "
            f"fault {ended - began:.1f}s ({notes}); after it ended every service ready in {ready_at - ended:.1f}s, "
            f"the read model caught up in {caught_up_at - ended:.1f}s; {events} events of {len(load.accepted)} contracts "
            f"on Kafka once each, in order; read model = rebuild ({replayed} events replayed)")
    FIGURES.append(line)
    print(line)


@contextmanager
def _port_held(port: int):
    """The broker's port bound, not listening: a connection is refused, as by a stopped broker.

    Were the port in Linux's ephemeral range (a TEST_KAFKA_PORT set so; the default is below it)
    and nothing bound there, a client reconnecting to the broker could be given the port itself as
    its source port and connect to itself; the socket it leaves in TIME_WAIT (60 s) would keep the
    broker from binding its port again. A bound port is never handed out as a source port.

    SO_REUSEADDR, as the broker binds: the connections the broker closed as it stopped leave
    TIME_WAIT sockets on its port, and without it the bind fails ("Address already in use")."""
    guard = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        guard.bind(("127.0.0.1", port))
        yield
    finally:
        guard.close()


@_broker_restartable
async def test_broker_stopped_30s_under_load(stack, platform, broker):
    async def fault(load: Load) -> str:
        t = asyncio.get_running_loop().time
        began = t()
        await asyncio.to_thread(broker.stop)
        stopped = t()
        with _port_held(broker.port):
            assert await _not_ready(platform.urls["clm"], "kafka")
            await asyncio.sleep(BROKER_DOWN_SECONDS)
        accepted_while_down = load.accepted_count
        restart, retries = t(), broker.bind_retries
        await asyncio.to_thread(broker.start, 150)
        assert accepted_while_down > 0
        return (f"stop {stopped - began:.1f}s, down {BROKER_DOWN_SECONDS}s, start {t() - restart:.1f}s"
                f" ({broker.bind_retries - retries} retried: port taken)")

    await _run("broker stopped 30s", stack, platform, fault)


async def _shown(stack, ids: list[str]) -> int:
    conn = await asyncpg.connect(_admin_db_url(stack))
    try:
        return await conn.fetchval("SELECT count(*) FROM projection.contracts WHERE contract_id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()


async def test_projection_sigkilled_mid_batch_and_started_again(stack, platform):
    async def fault(load: Load) -> str:
        burst = load.burst(200)
        shown = 0
        async with asyncio.timeout(30):
            while shown == 0:  # the first of the burst applied: the consumer is amid it
                shown = await _shown(stack, burst)
                await asyncio.sleep(0.01)
        code = await asyncio.to_thread(platform.kill, "projection")
        at_kill = shown
        await asyncio.sleep(2)
        platform.start("projection", wait=False)
        return f"SIGKILL (exit {code}) with {at_kill} of a burst of {len(burst)} drafts applied, down 2s"

    await _run("projection SIGKILLed mid-batch", stack, platform, fault, restarted=("projection",))


@pytest.mark.parametrize("mode, down_seconds", [("smart", 0), ("fast", 5)], ids=["smart", "fast-5s"])
async def test_postgres_restarted_under_load(stack, platform, database, mode, down_seconds):
    async def fault(load: Load) -> str:
        t = asyncio.get_running_loop().time
        began = t()
        await asyncio.to_thread(database.stop, mode, 60)
        stopped = t()
        assert await _not_ready(platform.urls["clm"], "database")
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(database.start)
        return f"{mode} stop took {stopped - began:.1f}s, down {down_seconds}s"

    await _run(f"postgres {mode} restart", stack, platform, fault)


@_broker_restartable
async def test_postgres_and_broker_restarted_at_once(stack, platform, database, broker):
    async def fault(load: Load) -> str:
        await asyncio.gather(asyncio.to_thread(database.stop, "fast", 60), asyncio.to_thread(broker.stop))
        with _port_held(broker.port):
            assert await _not_ready(platform.urls["clm"], "database")
            await asyncio.sleep(5)
        await asyncio.gather(asyncio.to_thread(database.start), asyncio.to_thread(broker.start, 150))
        return "fast stop of both, down 5s"

    await _run("postgres and broker restarted at once", stack, platform, fault)
