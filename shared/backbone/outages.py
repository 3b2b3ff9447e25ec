"""Which failures are an outage of a dependency rather than a fault of the work at hand.

A consumer that dead-letters an event because PostgreSQL was restarting loses the event's effect;
an API that answers 500 to a command while the database is down tells the client its request was
wrong. Both must instead wait: the consumer retries until the dependency is back (the message is
not poison), the relay keeps its checkpoint, and the API answers 503 with Retry-After (nothing of
the request was committed: its transaction rolled back). One classifier decides for all three, by
looking through the chain of causes SQLAlchemy, asyncpg and aiokafka wrap around each other.

Retryable database states (SQLSTATE): the connection-exception class 08, 57P01 admin shutdown,
57P02 crash shutdown, 57P03 cannot connect now (starting up, shutting down), 53300 too many
connections, 40001 serialization failure and 40P01 deadlock (the same transaction run again
passes); and any refused, reset or timed-out connection.
"""

import weakref

from prometheus_client import Counter
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

DATABASE, KAFKA = "database", "kafka"
_RETRYABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300", "40001", "40P01"}

RETRIES = Counter("dependency_retries_total", "Work retried because a dependency was unavailable",
                  ["component", "dependency"])


class DependencyUnavailable(Exception):
    """Raised where a dependency is known to be down (e.g. no broker for a route that needs one)."""

    def __init__(self, dependency: str, reason: str):
        super().__init__(f"{dependency} unavailable: {reason}")
        self.dependency = dependency
        self.reason = reason


def _failure_types() -> tuple[type[BaseException], ...]:
    from aiokafka.errors import KafkaError

    return (sa_exc.DBAPIError, sa_exc.TimeoutError, DependencyUnavailable, KafkaError, OSError)


def _causes(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)


def _is_kafka_outage(exc: BaseException) -> bool:
    from aiokafka import errors as kafka_errors

    return isinstance(exc, kafka_errors.KafkaConnectionError | kafka_errors.KafkaTimeoutError | kafka_errors.NodeNotReadyError) \
        or (isinstance(exc, kafka_errors.KafkaError) and getattr(exc, "retriable", False))


def unavailable_dependency(exc: BaseException) -> str | None:
    """"database" or "kafka" when `exc` comes from that dependency being unavailable, else None."""
    for cause in _causes(exc):
        if isinstance(cause, DependencyUnavailable):
            return cause.dependency
        state = _sqlstate(cause)
        if state and (state.startswith("08") or state in _RETRYABLE_SQLSTATES):
            return DATABASE
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return DATABASE
        if isinstance(cause, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
            return DATABASE
        if _is_kafka_outage(cause):
            return KAFKA
        if type(cause).__module__.startswith("asyncpg") and type(cause).__name__ in (
                "ConnectionDoesNotExistError", "InterfaceError", "ConnectionFailureError", "InternalClientError"):
            return DATABASE
        if isinstance(cause, ConnectionError | TimeoutError | OSError):
            return DATABASE if _from_database(exc) else KAFKA if _from_kafka(exc) else DATABASE
    return None


def _from_database(exc: BaseException) -> bool:
    return any(isinstance(c, sa_exc.SQLAlchemyError) or type(c).__module__.startswith("asyncpg") for c in _causes(exc))


def _from_kafka(exc: BaseException) -> bool:
    return any(type(c).__module__.startswith("aiokafka") for c in _causes(exc))


def describe(exc: BaseException) -> str:
    """A few words on why, for logs and /readyz: the innermost cause's message, first line."""
    last = exc
    for last in _causes(exc):
        pass
    text = str(last).strip().splitlines()[0] if str(last).strip() else type(last).__name__
    return text[:200]


_IN_OUTAGE: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_WATCHED: "weakref.WeakSet[Engine]" = weakref.WeakSet()


async def let_go(engine: AsyncEngine) -> None:
    """Closes the pool's idle connections, and each busy one as it comes back, until a new
    connection succeeds: a PostgreSQL smart shutdown waits for every session to end, and pooled
    sessions would keep it waiting for ever. New ones are made when the database is back."""
    sync = engine.sync_engine
    if sync not in _WATCHED:
        _WATCHED.add(sync)
        ref = weakref.ref(sync)

        def close_during_outage(dbapi_connection, record) -> None:
            if ref() in _IN_OUTAGE and record is not None:
                record.invalidate()

        event.listen(sync, "checkin", close_during_outage)
        event.listen(sync, "connect", lambda dbapi_connection, record: _IN_OUTAGE.discard(ref()))
    _IN_OUTAGE.add(sync)
    try:
        await engine.dispose(close=True)
    except Exception:  # closing a connection to a server that is gone may fail: it is gone anyway
        pass


# What the API's handler of outages is registered for; it looks inside each for an outage.
FAILURE_TYPES = _failure_types()
