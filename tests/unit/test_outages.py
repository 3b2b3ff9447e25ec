"""The outage classifier's rules (shared/backbone/outages.py) on errors shaped as the drivers
raise them; tests/integration/test_outages.py meets the real ones."""

import asyncio

import asyncpg
import pytest
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

from shared.backbone.errors import ConflictingState, invalid
from shared.backbone.outages import DependencyUnavailable, outage, retry_delay


def wrapped(error: Exception, invalidated: bool = False) -> sa_exc.DBAPIError:
    """`error` as SQLAlchemy hands it over: DBAPIError, .orig the adapted error, its cause asyncpg's."""
    adapted = AsyncAdapt_asyncpg_dbapi.Error(str(error), error)
    adapted.__cause__ = error
    return sa_exc.DBAPIError("SELECT 1", {}, adapted, connection_invalidated=invalidated)


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("terminating connection because of crash of another server process"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.ConnectionFailureError("connection failure"),
    asyncpg.exceptions.SerializationError("could not serialize access due to concurrent update"),
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
], ids=lambda e: f"{type(e).__name__}-{e.sqlstate}")
def test_postgres_errors_of_an_outage_are_outages_of_the_database_wrapped_or_not(error):
    for raised in (error, wrapped(error)):
        found = outage(raised)
        assert found is not None and found.dependency == "database"
        assert found.reason.startswith(type(error).__name__)


def test_a_shutdown_or_a_lost_session_tells_the_pool_to_let_go_of_its_sessions():
    assert outage(wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"))).sessions_gone
    assert outage(wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection"))).sessions_gone
    assert outage(wrapped(asyncpg.InterfaceError("connection is closed"), invalidated=True)).sessions_gone
    assert not outage(wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock detected"))).sessions_gone
    assert not outage(wrapped(asyncpg.exceptions.TooManyConnectionsError("too many clients"))).sessions_gone


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
    asyncpg.exceptions.UndefinedTableError('relation "nope" does not exist'),
    asyncpg.exceptions.InvalidTextRepresentationError("invalid input syntax for type uuid"),
    asyncpg.exceptions._base.DataError("invalid input for query argument $1: 'x' (a bad argument)"),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
], ids=lambda e: type(e).__name__)
def test_errors_of_the_code_or_the_message_are_not_outages(error):
    assert outage(error) is None
    assert outage(wrapped(error)) is None


def test_refusals_and_plain_bugs_are_not_outages_even_raised_while_handling_one():
    assert outage(ValueError("this contract title cannot be processed")) is None
    assert outage(invalid("dates.end_before_start", "end before start")) is None
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except OSError:
            raise ConflictingState("state.not_draft", "not a draft")
    except ConflictingState as refusal:
        assert outage(refusal) is None


def test_a_session_lost_as_sqlalchemy_reports_it_is_an_outage():
    found = outage(wrapped(asyncpg.InterfaceError("cannot call PreparedStatement.fetch(): the underlying connection is closed"), True))
    assert found is not None and found.dependency == "database"
    assert outage(sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached")).dependency == "database"


def test_an_oserror_belongs_to_the_library_it_came_through():
    async def connect():
        await asyncpg.connect("postgresql://nobody@127.0.0.1:1/none", timeout=2)

    with pytest.raises(OSError) as refused:
        asyncio.run(connect())
    found = outage(refused.value)
    assert found is not None and found.dependency == "database"
    assert outage(ConnectionResetError(104, "Connection reset by peer")).dependency == "unknown"
    assert outage(TimeoutError()) is not None


@pytest.mark.parametrize("error, is_outage", [
    (kafka_errors.KafkaConnectionError("Unable to bootstrap"), True),
    (kafka_errors.KafkaTimeoutError(), True),
    (kafka_errors.NotLeaderForPartitionError(), True),
    (kafka_errors.RequestTimedOutError(), True),
    (kafka_errors.NoBrokersAvailable(), True),
    (kafka_errors.MessageSizeTooLargeError(), False),
    (kafka_errors.TopicAuthorizationFailedError(), False),
    (kafka_errors.SaslAuthenticationFailed(), False),
], ids=lambda e: type(e).__name__ if isinstance(e, Exception) else str(e))
def test_kafka_errors_are_outages_of_the_broker_when_retrying_can_help(error, is_outage):
    found = outage(error)
    assert (found is not None) == is_outage
    assert found is None or found.dependency == "kafka"


def test_our_own_word_and_exception_groups():
    assert outage(DependencyUnavailable("kafka", "no broker")).dependency == "kafka"
    group = ExceptionGroup("two", [ValueError("bug"), ConnectionRefusedError(111, "refused")])
    assert outage(group) is not None


def test_backoff_doubles_up_to_its_cap():
    assert [retry_delay(n, 0.1, 1.0) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert retry_delay(10_000, 0.2) == 5.0
