"""While the broker is unreachable, a Kafka client made by shared/backbone/kafka.py tries to
connect a few times a second, not in a hot loop.

The loop this guards against (found by tests/faults: ~1500 connects/s from one service while
the broker was stopped): a consumer's fetcher or a producer's sender that holds metadata with a
partition without a leader (what the broker's last answer says while it shuts down) asks for
fresh metadata and waits for it, again and again; aiokafka's metadata refresh tries the broker,
is refused at once and answers at once, so each round is one connect() with nothing in between.

No broker here: the port is bound, not listening, so every connection is refused at once (and
never lands on a live process), as by a stopped broker whose port nothing else took.
"""

import asyncio
import socket

import pytest
from aiokafka.protocol.metadata import MetadataResponse_v0

from shared.backbone import kafka
from shared.backbone.kafka import KafkaAccess

SECONDS = 2.0
MAX_PER_SECOND = 20  # about 1/s per client once backed off; unthrottled it is thousands


@pytest.fixture
def refused_port():
    guard = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    guard.bind(("127.0.0.1", 0))
    try:
        yield guard.getsockname()[1]
    finally:
        guard.close()


CLIENTS = {
    "consumer": lambda access: kafka.consumer(access, "contracts", group_id="reconnect-test"),
    "producer": lambda access: kafka.idempotent_producer(access, "reconnect-test"),
    "admin": lambda access: kafka.admin_client(access),
}


def _aiokafka_client(client):
    return client.client if hasattr(client, "client") else client._client


def _leaderless(port: int) -> MetadataResponse_v0:
    """The broker's last answer as it shuts down: itself, and a partition with no leader (-1)."""
    return MetadataResponse_v0(brokers=[(1, "127.0.0.1", port)], topics=[(0, "contracts", [(5, 0, -1, [1], [])])])


@pytest.mark.parametrize("kind", CLIENTS)
async def test_a_client_asking_for_metadata_again_and_again_backs_off_while_the_broker_is_down(
        kind, refused_port, monkeypatch):
    loop = asyncio.get_running_loop()
    attempts = 0
    create_connection = loop.create_connection

    async def counted(*args, **kwargs):
        nonlocal attempts
        attempts += 1
        return await create_connection(*args, **kwargs)

    monkeypatch.setattr(loop, "create_connection", counted)
    client = _aiokafka_client(CLIENTS[kind](KafkaAccess(f"127.0.0.1:{refused_port}")))
    client.cluster.update_metadata(_leaderless(refused_port))
    synchronizer = asyncio.create_task(client._md_synchronizer())  # runs from a client's start on
    rounds = 0
    try:
        async with asyncio.timeout(SECONDS):
            while True:  # what the fetcher and the sender do while a partition has no leader
                await client.force_metadata_update()
                rounds += 1
    except TimeoutError:
        pass
    finally:
        synchronizer.cancel()
        await asyncio.gather(synchronizer, return_exceptions=True)
        await client.close()
    rate = attempts / SECONDS
    print(f"{kind}: {attempts} connection attempts in {SECONDS:g}s ({rate:.1f}/s), {rounds} metadata rounds")
    assert attempts > 0, "the client never tried the broker: the test measures nothing"
    assert rate < MAX_PER_SECOND, f"{kind}: {rate:.0f} connection attempts per second to a refusing broker"
