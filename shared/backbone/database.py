"""The database engine every service uses: SQLAlchemy's pool over asyncpg, made to ride out a
restart of PostgreSQL.

- `pool_pre_ping`: a pooled session the server has ended (a fast shutdown, a crash, a restart)
  is found dead at checkout and replaced, so the first command after an outage does not fail.
- `pool_recycle` (RECYCLE_SECONDS): a session is replaced at its first checkout after that long.
  That is how an engine learns of a smart shutdown: PostgreSQL then lets open sessions go on and
  refuses new ones until the last session has ended, and pre-pings pass all along. A pool that
  kept its sessions would keep the shutdown waiting forever (every service's relay checks a
  session out each second, so they would never be idle long enough to time out either); a fresh
  connection is refused with 57P03 "the database system is shutting down".
- When a failure says the server ended its sessions or takes none (`outages.Outage.sessions_gone`),
  the engine lets go of all of them: idle ones are closed at once, the ones in use as they come
  back, after their transaction (a smart shutdown lets it finish). Until the server is back, new
  sessions fail with errors the classifier calls outages, which their callers retry.
"""

import asyncio

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.backbone.logging import get_logger
from shared.backbone.outages import outage

log = get_logger(__name__)

RECYCLE_SECONDS = 30


def create_engine(url: str, *, search_path: str | None = None, application_name: str | None = None,
                  **options) -> AsyncEngine:
    """An AsyncEngine on `url`; `options` go to SQLAlchemy (pool_size, pool_recycle, ...)."""
    server_settings = {"search_path": search_path, "application_name": application_name}
    engine = create_async_engine(
        url,
        connect_args={"server_settings": {k: v for k, v in server_settings.items() if v}},
        **{"pool_pre_ping": True, "pool_recycle": RECYCLE_SECONDS, **options},
    )
    _let_go_of_sessions_on_shutdown(engine)
    return engine


def _let_go_of_sessions_on_shutdown(engine: AsyncEngine) -> None:
    # Sessions opened before the current generation are closed as they come back to the pool.
    # Once per outage: `released` until a session opens again.
    state = {"generation": 0, "released": False}
    tasks: set[asyncio.Task] = set()

    @event.listens_for(engine.sync_engine, "connect")
    def opened(dbapi_connection, record) -> None:
        record.info["generation"] = state["generation"]
        state["released"] = False

    @event.listens_for(engine.sync_engine, "checkin")
    def returned(dbapi_connection, record) -> None:
        if dbapi_connection is not None and record.info.get("generation", state["generation"]) < state["generation"]:
            record.invalidate()

    @event.listens_for(engine.sync_engine, "handle_error")
    def failed(context) -> None:
        found = outage(context.original_exception)
        if found is None or not found.sessions_gone or state["released"]:
            return
        state["generation"] += 1
        state["released"] = True
        log.info("database.releasing_sessions", reason=found.reason)
        # Not here, inside the failing call: the idle sessions are closed by a task of their own.
        task = asyncio.get_running_loop().create_task(engine.dispose())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
