"""Group commit: concurrent commands of one service share one append and one COMMIT.

Appends are serialized by the append lock (event_store), so a service commits one appending
transaction at a time, and each pays its own append call and COMMIT (a WAL flush). A command
whose transaction holds nothing but its reads and its new events (it opted in with
`uow.commit(grouped=True)`, and the unit of work checked that it wrote nothing else) hands its
append to its engine's committer instead: the committer takes the appends queued while its
previous COMMIT ran, appends them in one transaction (one `append_many`: each command's own
version checks, positions in queue order), COMMITs once, and only then answers each command. The
first command to arrive finds the committer idle and commits at once on its own connection, as
without grouping (`lead`): nothing waits for a group to fill, and a command alone pays nothing
extra; those arriving meanwhile queue and go together after it.

A command's reads were made in its own READ COMMITTED transaction, which is also true of an append
on its own connection: what makes it correct is the version check under the lock, and that is the
same here. What a group must not do is let one command's conflict fail the others: when the shared
append raises (a stream that moved, or anything else before COMMIT, which then did not happen), or
two commands of the group name the same stream, each command of that group is appended alone in a
transaction of its own, in queue order, and gets its own answer as it would have without grouping.
A COMMIT that fails fails every command of its group with that error (its outcome is unknown, as it
is for one command).
"""

import asyncio
import weakref
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone import event_store

_MAX_GROUP = 500  # commands per shared transaction: bounds the statement's arrays


@dataclass
class _Queued:
    unchanged: dict[str, int]
    appends: list[event_store.StreamAppend]
    done: asyncio.Future


class GroupCommitter:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._queue: list[_Queued] = []
        self._running: asyncio.Task | None = None
        self._leading = False

    def lead(self) -> bool:
        """True when nothing is committing: the caller then commits on its own connection, as an
        ungrouped command does (no extra round trip), and calls `led()` after; commands arriving
        meanwhile queue behind it."""
        if self._running is not None or self._leading:
            return False
        self._leading = True
        return True

    def led(self) -> None:
        self._leading = False
        if self._queue and self._running is None:
            self._running = asyncio.create_task(self._run())

    async def append(self, unchanged: dict[str, int], appends: list[event_store.StreamAppend]) -> None:
        """Returns once the events are committed, or raises what this command's append raised."""
        queued = _Queued(unchanged, appends, asyncio.get_running_loop().create_future())
        self._queue.append(queued)
        if self._running is None and not self._leading:
            self._running = asyncio.create_task(self._run())
        # A caller cancelled meanwhile (a client gone) does not take its append out of the group.
        await asyncio.shield(queued.done)

    async def _run(self) -> None:
        group: list[_Queued] = []
        try:
            while self._queue:
                group, self._queue = self._queue[:_MAX_GROUP], self._queue[_MAX_GROUP:]
                await self._commit(group)
        except BaseException as stopped:  # cancelled (the service stopping): no caller waits forever
            queued, self._queue = group + self._queue, []
            _answer(queued, stopped)
            raise
        finally:
            self._running = None

    async def _commit(self, group: list[_Queued]) -> None:
        if len(group) == 1 or _overlapping(group):
            await self._each_alone(group)
            return
        try:
            async with self._engine.connect() as conn:
                await conn.begin()
                try:
                    await event_store.append_many(
                        conn, [a for q in group for a in q.appends], {k: v for q in group for k, v in q.unchanged.items()})
                except Exception:
                    await conn.rollback()
                    appended = False
                else:
                    await conn.commit()
                    appended = True
        except Exception as error:  # the COMMIT (or the connection) failed: the outcome is unknown
            _answer(group, error)
            return
        if appended:
            _answer(group, None)
        else:
            await self._each_alone(group)

    async def _each_alone(self, group: list[_Queued]) -> None:
        for queued in group:
            try:
                async with self._engine.begin() as conn:
                    await event_store.append_many(conn, queued.appends, queued.unchanged)
            except Exception as error:
                _answer([queued], error)
            else:
                _answer([queued], None)


def _overlapping(group: list[_Queued]) -> bool:
    """True when a stream is named by more than one command of the group (each then expects the
    store's version, not the other's)."""
    seen: set[str] = set()
    for queued in group:
        streams = {a[0] for a in queued.appends} | set(queued.unchanged)
        if seen & streams:
            return True
        seen |= streams
    return False


def _answer(group: list[_Queued], error: BaseException | None) -> None:
    for queued in group:
        if not queued.done.done():
            if error is None:
                queued.done.set_result(None)
            else:
                queued.done.set_exception(error)


_committers: "weakref.WeakKeyDictionary[AsyncEngine, GroupCommitter]" = weakref.WeakKeyDictionary()


def committer(engine: AsyncEngine) -> GroupCommitter:
    """The engine's committer (one per engine and so per service process)."""
    found = _committers.get(engine)
    if found is None:
        found = _committers[engine] = GroupCommitter(engine)
    return found
