"""Unit of work: one database transaction for a command or a consumed event.

Aggregates read through it are rebuilt from their events; on commit their new events are
appended (optimistic concurrency) in the same transaction as any other write, which is what
makes the events table a transactional outbox.
"""

from typing import Callable, TypeVar
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.backbone import event_store
from shared.backbone.aggregate import Aggregate
from shared.backbone.errors import NotFound
from shared.backbone.logging import correlation_id as current_correlation_id

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        correlation_id: str = "",
        causation_id: str = "",
        actor: str | None = None,
        on_commit: Callable[[], None] | None = None,
    ):
        self._engine = engine
        self.correlation_id = correlation_id or current_correlation_id.get() or str(uuid4())
        self.causation_id = causation_id
        self.actor = actor
        self._on_commit = on_commit
        self._seen: dict[str, Aggregate] = {}
        self._guarded: dict[str, int] = {}
        self._serialized = False
        self.conn: AsyncConnection | None = None

    async def __aenter__(self) -> "UnitOfWork":
        self.conn = await self._engine.connect()
        await self.conn.begin()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.conn.in_transaction():
                await self.conn.rollback()
        finally:
            await self.conn.close()

    async def get(self, cls: type[A], aggregate_id: str) -> A | None:
        aggregate_id = str(aggregate_id)
        if aggregate_id in self._seen:
            return self._seen[aggregate_id]
        history = await event_store.read_stream(self.conn, aggregate_id)
        if not history:
            return None
        aggregate = cls.rehydrate(aggregate_id, (r.event for r in history))
        self._seen[aggregate_id] = aggregate
        return aggregate

    async def require(self, cls: type[A], aggregate_id: str, what: str) -> A:
        """The aggregate, or NotFound (HTTP 404) naming `what`."""
        aggregate = await self.get(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(what, aggregate_id)
        return aggregate

    def guard(self, aggregate: Aggregate) -> None:
        """This command read `aggregate` without changing it and relies on what it read: commit
        fails with ConcurrencyConflict if another transaction appended to it meanwhile."""
        self._guarded[str(aggregate.id)] = aggregate.persisted_version

    async def serialize(self) -> None:
        """Takes the append lock now, so what this command reads next cannot change before it
        commits (appends are serialized by that lock; see event_store)."""
        if not self._serialized:
            await event_store.lock_for_append(self.conn)
            self._serialized = True

    def changed(self) -> list[Aggregate]:
        """Aggregates with events not yet appended: what a service's inline indexes must follow."""
        return [a for a in self._seen.values() if a.pending_events]

    def add(self, aggregate: Aggregate) -> None:
        self._seen[str(aggregate.id)] = aggregate

    async def flush(self) -> int:
        """Appends every pending event of the aggregates seen; returns how many."""
        appended = 0
        if self._guarded:
            await self.serialize()
            await event_store.check_versions(self.conn, self._guarded)
        for aggregate in self._seen.values():
            pending = aggregate.pending_events
            if not pending:
                continue
            new = [
                event_store.NewEvent(e, uuid4(), self.correlation_id, self.causation_id, self.actor)
                for e in pending
            ]
            await event_store.append(self.conn, str(aggregate.id), aggregate.stream_type, aggregate.persisted_version, new)
            aggregate.mark_persisted()
            appended += len(new)
        return appended

    async def commit(self) -> None:
        appended = await self.flush()
        await self.conn.commit()
        if appended and self._on_commit:
            self._on_commit()
