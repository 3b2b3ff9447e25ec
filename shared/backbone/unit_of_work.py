"""Unit of work: one database transaction for a command, a consumed event or a consumed batch.

Aggregates read through it are rebuilt from their events and cached, so everything in the
transaction sees one instance of each; on commit their new events are appended (optimistic
concurrency, one `append_many` for all of them) in the same transaction as any other write, which
is what makes the events table a transactional outbox. The append is one call (lock, every version
check, INSERT: event_store.append_many); a command whose transaction holds nothing else may
`commit(grouped=True)` to share it, and its COMMIT, with other commands (group_commit.py). A
consumer handling several messages in one transaction calls `caused_by(envelope)` before each, so
each event carries its own message's correlation and causation ids, and still appends once, right
before COMMIT.

A service's query tables written in the same transaction are reached through `uow.views`, built by
the `views` factory given (order sync's indexes); views with a `flush()` (writes kept back to be
done set-based) are flushed at commit, before the append. The I/O is in the last methods (`_begin` to
`_end`); shared/backbone/memory.py replaces them to run use cases without a database in unit tests.
"""

import functools
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.backbone import event_store, group_commit
from shared.backbone.aggregate import Aggregate
from shared.backbone.clock import Clock, SystemClock
from shared.backbone.errors import AlreadyExists, ConcurrencyConflict, NotFound
from shared.backbone.logging import correlation_id as current_correlation_id

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
Views = Callable[["UnitOfWork"], Any]  # builds a service's query tables on a unit of work as it begins
_WROTE_NOTHING = sa.text("SELECT pg_current_xact_id_if_assigned() IS NULL")


@dataclass(frozen=True)
class _Staged:
    stream_id: str
    stream_type: str
    expected_version: int
    events: list[event_store.NewEvent]


class UnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        correlation_id: str = "",
        causation_id: str = "",
        actor: str | None = None,
        on_commit: Callable[[], None] | None = None,
        views: Views | None = None,
        clock: Clock | None = None,
    ):
        self._engine = engine
        # The service's clock: a consumer's handler is given only the unit of work and the event, and
        # times it records (a reminder's next run, a link's expiry) must follow the clock the sweeps read.
        self.clock: Clock = clock or SystemClock()
        self.correlation_id = correlation_id or current_correlation_id.get() or str(uuid4())
        self.causation_id = causation_id
        self.actor = actor
        self._on_commit = on_commit
        self._make_views = views
        self.views: Any = None
        self.conn: AsyncConnection | None = None
        self._forget()

    def _forget(self) -> None:
        """Each entry starts from the store: nothing read, guarded or staged by an earlier one."""
        self._seen: dict[str, Aggregate] = {}
        self._prefetched: dict[str, list[event_store.RecordedEvent]] = {}  # read by `prefetch`, not yet by `get`
        self._taken: dict[str, str] = {}  # stream id -> its type, for streams `get` found of another type
        self._guarded: dict[str, int] = {}
        self._unchanged: dict[str, int] = {}  # guards as versions in the store, checked at flush
        self._staged: list[_Staged] = []  # in the order staged: positions follow it
        self._staged_to: dict[str, int] = {}  # stream id -> its version after what is staged
        self._serialized = False

    async def __aenter__(self) -> "UnitOfWork":
        self._forget()
        await self._begin()
        self.views = self._make_views(self) if self._make_views else None
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self._end(failed=exc is not None)

    async def get(self, cls: type[A], aggregate_id: str) -> A | None:
        """The aggregate, or None if there is none of `cls`'s stream type with that id: a stream of
        another type (an id of the wrong kind) is not this aggregate, and `add` refuses its id."""
        aggregate_id = str(aggregate_id)
        if aggregate_id in self._seen:
            seen = self._seen[aggregate_id]
            return seen if seen.stream_type == cls.stream_type else None
        prefetched = self._prefetched.pop(aggregate_id, None)
        history = prefetched if prefetched is not None else await self._read(aggregate_id)
        if not history:
            return None
        if history[0].stream_type != cls.stream_type:
            self._taken[aggregate_id] = history[0].stream_type
            return None
        aggregate = cls.rehydrate(aggregate_id, (r.event for r in history))
        self._seen[aggregate_id] = aggregate
        return aggregate

    async def prefetch(self, aggregate_ids: list[str]) -> None:
        """Reads the streams of aggregates about to be got in one query instead of one each (a batch
        of many rows); `get` then takes them from here, as if read then."""
        wanted = list(dict.fromkeys(str(i) for i in aggregate_ids if str(i) not in self._seen
                                    and str(i) not in self._prefetched))
        if wanted:
            self._prefetched.update(await self._read_many(wanted))

    async def require(self, cls: type[A], aggregate_id: str, what: str, expected_version: int | None = None) -> A:
        """The aggregate, or NotFound naming `what`. With `expected_version` (a client's If-Match),
        ConcurrencyConflict unless the aggregate is at that version: the client decided on what it
        read then, and must not change what has moved on since."""
        aggregate = await self.get(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(what, aggregate_id)
        if expected_version is not None and expected_version != aggregate.version:
            raise ConcurrencyConflict(str(aggregate_id), expected_version, aggregate.version)
        return aggregate

    def guard(self, aggregate: Aggregate) -> None:
        """This command read `aggregate` without changing it and relies on what it read: commit
        fails with ConcurrencyConflict if another transaction appended to it meanwhile."""
        self._guarded[str(aggregate.id)] = aggregate.persisted_version

    async def serialize(self) -> None:
        """Takes the append lock now, so what this command reads next cannot change before it
        commits (appends are serialized by that lock; see event_store)."""
        if not self._serialized:
            await self._lock()
            self._serialized = True

    def changed(self) -> list[Aggregate]:
        """Aggregates with events not yet appended: what a service's inline indexes must follow."""
        return [a for a in self._seen.values() if a.pending_events]

    def add(self, aggregate: Aggregate) -> None:
        """A new aggregate (or one already seen); AlreadyExists if its id is a stream of another type."""
        aggregate_id = str(aggregate.id)
        seen = self._seen.get(aggregate_id)
        taken = self._taken.get(aggregate_id) or (seen.stream_type if seen is not None else None)
        if taken is not None and taken != aggregate.stream_type:
            raise AlreadyExists(aggregate.stream_type, aggregate_id,
                                message=f"{aggregate_id} is the id of a {taken}, not of a {aggregate.stream_type}")
        self._seen[aggregate_id] = aggregate

    def stage(self) -> int:
        """Takes the pending events of every aggregate seen into the next flush's append, stamped
        with the correlation id, causation id and actor as they are now; returns how many."""
        for stream_id, version in self._guarded.items():
            # What this transaction staged is its own: the guard is on the version it read.
            own = sum(len(s.events) for s in self._staged if s.stream_id == stream_id)
            self._unchanged.setdefault(stream_id, version - own)
        self._guarded.clear()
        taken = 0
        for aggregate in self._seen.values():
            pending = aggregate.pending_events
            if not pending:
                continue
            stream_id = str(aggregate.id)
            staged_to = self._staged_to.get(stream_id)
            if staged_to is not None and staged_to != aggregate.persisted_version:
                # another instance of a stream this transaction already wrote to: a stale write
                raise ConcurrencyConflict(stream_id, aggregate.persisted_version, staged_to)
            new = [
                event_store.NewEvent(e, uuid4(), self.correlation_id, self.causation_id, self.actor)
                for e in pending
            ]
            self._staged.append(_Staged(stream_id, aggregate.stream_type, aggregate.persisted_version, new))
            self._staged_to[stream_id] = aggregate.version
            aggregate.mark_persisted()
            taken += len(new)
        return taken

    def caused_by(self, envelope) -> None:
        """What is recorded from now on is caused by `envelope` (a consumed event): stages what is
        pending under the ids before, then takes the envelope's correlation id and its event id as
        the causation id, so each event of a consumed batch names its own cause."""
        self.stage()
        self.correlation_id = envelope.correlation_id or str(uuid4())
        self.causation_id = str(envelope.event_id)
        current_correlation_id.set(envelope.correlation_id)

    async def flush(self) -> int:
        """Appends every pending event of the aggregates seen, and what was staged; returns how many."""
        self.stage()
        unchanged, self._unchanged = self._unchanged, {}
        staged, self._staged, self._staged_to = self._staged, [], {}
        await self._append(unchanged, [(s.stream_id, s.stream_type, s.expected_version, s.events) for s in staged])
        return sum(len(s.events) for s in staged)

    async def commit(self, grouped: bool = False) -> None:
        """Appends what is pending and commits. `grouped`: the command's use case says its transaction
        holds nothing but its reads and its events (no other write, no lock it relies on), so its
        append may share a transaction and COMMIT with other commands' (shared/backbone/group_commit.py);
        it does only if this unit of work also finds it wrote nothing and took no append lock, and it
        returns, as always, only once its events are committed."""
        flush_views = getattr(self.views, "flush", None)
        if flush_views is not None:  # query tables that write behind (a consumed batch's index rewrites)
            await flush_views()
        committer = self._committer() if grouped else None
        leading = committer is not None and committer.lead()  # nothing committing: commit as usual, first
        if committer is not None and not leading and await self._only_read():
            self.stage()
            unchanged, self._unchanged = self._unchanged, {}
            staged, self._staged, self._staged_to = self._staged, [], {}
            # Its reads are done and it wrote nothing: its connection goes back to the pool before it
            # waits, for the group commits on a connection of its own. (Held, a burst of waiting
            # commands would take the whole pool, and the committer would wait for them as they wait
            # for it, until the pool's timeout.)
            await self._end()
            self.conn = None
            await committer.append(unchanged, [(s.stream_id, s.stream_type, s.expected_version, s.events)
                                               for s in staged])
            appended = sum(len(s.events) for s in staged)
        else:
            try:
                appended = await self.flush()
                await self._commit()
            finally:
                if leading:
                    committer.led()
        if appended and self._on_commit:
            self._on_commit()

    async def _begin(self) -> None:
        self.conn = await self._engine.connect()
        try:
            await self.conn.begin()
        except BaseException:
            await self._close(quietly=True)
            raise

    async def _read(self, stream_id: str) -> list[event_store.RecordedEvent]:
        return await event_store.read_stream(self.conn, stream_id)

    async def _read_many(self, stream_ids: list[str]) -> dict[str, list[event_store.RecordedEvent]]:
        return await event_store.read_streams(self.conn, stream_ids)

    async def _lock(self) -> None:
        await event_store.lock_for_append(self.conn)

    async def _append(self, unchanged: dict[str, int], appends: list[event_store.StreamAppend]) -> None:
        # one round trip: lock, the guards' and the appends' version checks, INSERT; the lock keeps
        # the guarded streams where they are until COMMIT
        await event_store.append_many(self.conn, appends, unchanged)

    async def _only_read(self) -> bool:
        """Nothing but reads so far: no append lock taken, and no transaction id assigned (PostgreSQL
        assigns one at a transaction's first write or row lock)."""
        if self._serialized:
            return False
        return (await self.conn.execute(_WROTE_NOTHING)).scalar_one()

    def _committer(self) -> group_commit.GroupCommitter | None:
        return group_commit.committer(self._engine)

    async def _commit(self) -> None:
        await self.conn.commit()

    async def _end(self, failed: bool = False) -> None:
        """Rolls back what was not committed. When the work failed, its error is what propagates:
        a session the database has lost cannot roll back (the server did), and saying so would
        hide why the work failed."""
        if self.conn is None:  # closed early (a grouped commit)
            return
        try:
            if self.conn.in_transaction():
                await self.conn.rollback()
        except Exception:
            if not failed:
                raise
        finally:
            await self._close(quietly=failed)

    async def _close(self, quietly: bool) -> None:
        try:
            await self.conn.close()
        except Exception:
            if not quietly:
                raise


def created_once(use_case: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """For a create with a client-chosen id: a retry sent while the first attempt still runs (a
    client's timeout, a 503 resent) races it, both find no stream, and the later append meets the
    earlier's version 1. Running the use case again (its unit of work entered afresh) finds the
    stream the winner wrote, so the loser answers as any retry does: the replay when the terms are
    the same, `<record>.already_exists` when not, instead of a 409 stream.version_conflict."""

    @functools.wraps(use_case)
    async def create(*args, **kwargs) -> T:
        try:
            return await use_case(*args, **kwargs)
        except ConcurrencyConflict as conflict:
            if conflict.extra.get("expected_version") != 0:
                raise
            return await use_case(*args, **kwargs)

    return create
