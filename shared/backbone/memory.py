"""An in-memory event store and unit of work, for fast unit tests of use cases.

A use case given a `MemoryUnitOfWork` runs without PostgreSQL, in microseconds, with the unit of
work's semantics: aggregates rebuilt from their events, optimistic concurrency on every stream
appended to or guarded, a service's query tables (`uow.views`) written in the same transaction,
and nothing kept of a unit of work that does not commit. The same tests run against it and the
real one (tests/integration/test_unit_of_work_contract.py), so the two cannot drift. Never used
by a running service: it keeps nothing past the process and serializes nothing between tasks.
"""

import datetime as dt
from collections import ChainMap
from typing import MutableMapping

from shared.backbone.errors import ConcurrencyConflict
from shared.backbone.event_store import RecordedEvent, StreamAppend
from shared.backbone.unit_of_work import UnitOfWork


class MemoryEventStore:
    """What a service's schema holds, as committed: its events (`events`, in global order) and the
    rows of its query tables (`tables`: table name -> key -> row)."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.tables: dict[str, dict] = {}
        self._streams: dict[str, list[RecordedEvent]] = {}

    def version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, ()))

    def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        return list(self._streams.get(stream_id, ()))

    def append_many(self, appends: list[StreamAppend], unchanged: dict[str, int] | None = None) -> None:
        """As event_store.append_many, all or nothing: each entry after its expected version (a stream
        may come again, continuing its previous entry), and each stream of `unchanged` still at the
        version given; else ConcurrencyConflict for the first that moved, and nothing appended."""
        at: dict[str, int] = {}
        for stream_id, version in (unchanged or {}).items():
            if self.version(stream_id) != version:
                raise ConcurrencyConflict(stream_id, version, self.version(stream_id))
        for stream_id, _, version, new_events in appends:
            current = at.get(stream_id, self.version(stream_id))
            if version != current:
                raise ConcurrencyConflict(stream_id, version, current)
            at[stream_id] = current + len(new_events)
        now = dt.datetime.now(dt.UTC)
        for stream_id, stream_type, _, new_events in appends:
            stream = self._streams.setdefault(stream_id, [])
            for e in new_events:
                stream.append(RecordedEvent(len(self.events) + 1, stream_id, stream_type, len(stream) + 1, e.event_id,
                                            e.event, e.correlation_id, e.causation_id, now))
                self.events.append(stream[-1])


class MemoryUnitOfWork(UnitOfWork):
    """UnitOfWork over a MemoryEventStore. What it flushes is kept aside and reaches the store on
    commit, where every stream appended to or guarded must still be where this transaction found it
    (the real one holds the append lock from its first flush to COMMIT for that)."""

    def __init__(self, store: MemoryEventStore, **kwargs) -> None:
        super().__init__(None, **kwargs)
        self.store = store
        self._end_transaction()

    def table(self, name: str) -> MutableMapping:
        """A query table's rows by key as this transaction sees them: its own writes over what is committed."""
        return ChainMap(self._writes.setdefault(name, {}), self.store.tables.setdefault(name, {}))

    async def _begin(self) -> None:
        self._end_transaction()

    async def _read(self, stream_id: str) -> list[RecordedEvent]:
        return self.store.read_stream(stream_id)

    async def _read_many(self, stream_ids: list[str]) -> dict[str, list[RecordedEvent]]:
        return {stream_id: await self._read(stream_id) for stream_id in stream_ids}

    async def _lock(self) -> None:
        pass  # one task at a time: nothing to serialize against

    def _committer(self):
        return None  # a grouped commit commits as any other: alone, at once

    async def _append(self, unchanged: dict[str, int], appends: list[StreamAppend]) -> None:
        for stream_id, version in unchanged.items():
            # a guard counts this transaction's earlier flushes, which the store has not seen yet
            flushed = sum(len(a[3]) for a in self._appends if a[0] == stream_id)
            self._unchanged_in_store.setdefault(stream_id, version - flushed)
        self._appends += appends

    async def _commit(self) -> None:
        self.store.append_many(self._appends, self._unchanged_in_store)
        for name, rows in self._writes.items():
            self.store.tables.setdefault(name, {}).update(rows)
        self._end_transaction()

    async def _end(self, failed: bool = False) -> None:
        self._end_transaction()

    def _end_transaction(self) -> None:
        self._appends: list[StreamAppend] = []
        self._unchanged_in_store: dict[str, int] = {}
        self._writes: dict[str, dict] = {}
