"""Which failures are outages of a dependency, not the fault of the event or the request.

The one classifier the consumer, the outbox relay, the database engine and the API use. It
matters because each of them does something different with an outage than with a bug:
a consumer that takes an outage for a poison message dead-letters an event whose effect then never
happens; an API answers 500 with a traceback where the client should retry after a 503; a relay
drops its Kafka producer when it was the database that went away. So: an outage is retried until it
passes (or answered 503), and only what fails on healthy infrastructure is dead-lettered.

How the errors arrive. SQLAlchemy wraps what asyncpg raises in `DBAPIError` (or a subclass):
`.orig` is its adapted DB-API error, carrying `.sqlstate`, and `.orig.__cause__` is asyncpg's own
exception. So during a smart shutdown a new session fails as a plain `DBAPIError` (not an
`OperationalError`) whose `.orig.sqlstate` is 57P03. A refused TCP connection is not wrapped: the
`OSError` comes as it is. A session the server ended comes as an asyncpg `InterfaceError` ("the
underlying connection is closed") or `ConnectionDoesNotExistError`, wrapped, with
`connection_invalidated` set. aiokafka raises its own `KafkaError`s, most with a `retriable` flag.

The rules; an exception is an outage when it, or one it wraps (`.orig`, `__cause__`,
`__context__`, the members of an exception group), is:
- a PostgreSQL error whose SQLSTATE is in class 08 (connection exception), 53 (insufficient
  resources: 53300 too many connections, disk full, out of memory) or 58 (system error, I/O), or is
  57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (shutting down, starting
  up, in recovery), 57P05 idle_session_timeout, 57014 query_canceled (a statement timeout or an
  operator), 40001 serialization_failure or 40P01 deadlock_detected (retrying is the remedy);
- a session lost: SQLAlchemy's `connection_invalidated`, `DisconnectionError`, asyncpg's
  `ConnectionDoesNotExistError` (08003) or an `InterfaceError` saying the connection is closed;
  and SQLAlchemy's pool `TimeoutError` (no session free in time);
- a Kafka error flagged retriable, or a connection, timeout or unavailable broker error;
- an `OSError` (refused, reset, unreachable; `TimeoutError` is one), `DependencyUnavailable`.
Never an outage: a refusal (`DomainError`), constraint, syntax or data errors, and other asyncpg
`InterfaceError`s (a bad argument, another operation in progress): those are the code's or the
message's, and go on failing on healthy infrastructure.

Which dependency: PostgreSQL and SQLAlchemy errors name the database, Kafka's the broker; a bare
`OSError` is the database's or the broker's according to the library its traceback went through
("unknown" when it went through neither).
"""

import asyncio
import traceback
from dataclasses import dataclass

import asyncpg
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc

from shared.backbone.errors import DomainError
from shared.backbone.metrics import DEPENDENCY_RETRIES

DATABASE, KAFKA = "database", "kafka"

_SQLSTATE_CLASSES = ("08", "53", "58")
_SQLSTATES = {"57P01", "57P02", "57P03", "57P05", "57014", "40001", "40P01"}
# The server ended the session or takes none: a pool should let go of the sessions it holds.
_SESSIONS_GONE = {"57P01", "57P02", "57P03", "57P05"}
_KAFKA_OUTAGES = (kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError, kafka_errors.KafkaUnavailableError,
                  kafka_errors.BrokerNotAvailableError, kafka_errors.RequestTimedOutError, kafka_errors.NoBrokersAvailable)
_LIBRARIES = {"asyncpg": DATABASE, "sqlalchemy": DATABASE, "aiokafka": KAFKA, "kafka": KAFKA}


class DependencyUnavailable(Exception):
    """Raised by code that finds a dependency unavailable itself; the API answers it with 503."""

    def __init__(self, dependency: str, reason: str):
        super().__init__(f"{dependency} unavailable: {reason}")
        self.dependency = dependency
        self.reason = reason


# What an outage can be raised as: the API's exception handler is installed for these.
RAISED_AS = (DependencyUnavailable, sa_exc.SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError,
             kafka_errors.KafkaError, OSError)


@dataclass(frozen=True)
class Outage:
    dependency: str  # "database" or "kafka"
    reason: str  # the underlying error in one line, for logs (not for clients)
    sessions_gone: bool = False  # the database ended its sessions or refuses new ones


def outage(exc: BaseException) -> Outage | None:
    """The outage `exc` is (or wraps), or None when it is not one (see the module's rules)."""
    if isinstance(exc, DomainError):
        return None
    for error in _chain(exc):
        found = _match(error)
        if found is not None:
            return found
    return None


def retry_delay(attempt: int, base: float, cap: float = 5.0) -> float:
    """Capped exponential backoff: base, 2 base, 4 base, ... at most `cap` seconds."""
    return min(cap, base * 2 ** min(max(attempt - 1, 0), 16))


def note_retry(log, component: str, found: Outage, attempt: int, retry_in: float, **context) -> None:
    """One warning line per retry (no traceback) and the `dependency_retries_total` counter."""
    DEPENDENCY_RETRIES.labels(component, found.dependency).inc()
    log.warning(f"{component}.dependency_unavailable", dependency=found.dependency, reason=found.reason,
                attempt=attempt, retry_in=round(retry_in, 3), **context)


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less if `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


def _chain(exc: BaseException):
    seen, pending = set(), [exc]
    while pending:
        error = pending.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        pending += list(getattr(error, "exceptions", None) or ()) if isinstance(error, BaseExceptionGroup) else []
        pending += [getattr(error, "orig", None), error.__cause__, error.__context__]


def _match(error: BaseException) -> Outage | None:
    if isinstance(error, DependencyUnavailable):
        return Outage(error.dependency, error.reason)
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate in _SQLSTATES or sqlstate[:2] in _SQLSTATE_CLASSES):
        return Outage(DATABASE, _reason(error), sessions_gone=sqlstate in _SESSIONS_GONE or sqlstate[:2] == "08")
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return Outage(DATABASE, _reason(error), sessions_gone=True)
    if isinstance(error, sa_exc.DisconnectionError):
        return Outage(DATABASE, _reason(error), sessions_gone=True)
    if isinstance(error, asyncpg.InterfaceError) and "connection" in str(error) and "closed" in str(error):
        return Outage(DATABASE, _reason(error), sessions_gone=True)
    if isinstance(error, sa_exc.TimeoutError):
        return Outage(DATABASE, _reason(error))
    if isinstance(error, kafka_errors.KafkaError) and (error.retriable or isinstance(error, _KAFKA_OUTAGES)):
        return Outage(KAFKA, _reason(error))
    if isinstance(error, (OSError, asyncio.TimeoutError)):
        return Outage(_library_of(error) or "unknown", _reason(error))
    return None


def _library_of(error: BaseException) -> str | None:
    """The dependency whose client library the traceback went through, innermost first."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        parts = frame.filename.replace("\\", "/").split("/")
        for library, dependency in _LIBRARIES.items():
            if library in parts[:-1]:
                return dependency
    return None


def _reason(error: BaseException) -> str:
    deepest = error
    while (inner := getattr(deepest, "orig", None) or deepest.__cause__) is not None and inner is not deepest:
        deepest = inner
    name, text = type(deepest).__name__, (str(deepest).strip().splitlines() or [""])[0]
    return (text if text.startswith(name) else f"{name}: {text}")[:300]
