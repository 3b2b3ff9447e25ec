"""Group commit (shared/backbone/group_commit.py): commands that only append share a COMMIT, each
answered only once its events are committed, and one command's conflict fails that command alone."""

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from shared.backbone import event_store
from shared.backbone.errors import ConcurrencyConflict
from shared.backbone.unit_of_work import UnitOfWork
from tests.conftest import FIXTURES, migrated_schema
from tests.events_factory import Note, drafted

pytestmark = pytest.mark.integration


async def _new_note(engine, title: str) -> str:
    note = Note(str(uuid.uuid4()))
    note.retitle(title)
    async with UnitOfWork(engine) as uow:
        uow.add(note)
        await uow.commit()
    return note.id


async def _create(engine, note_id: str, title: str) -> None:
    async with UnitOfWork(engine) as uow:
        note = Note(note_id)
        note.retitle(title)
        uow.add(note)
        await uow.commit(grouped=True)


async def _retitle(engine, note_id: str, title: str) -> None:
    async with UnitOfWork(engine) as uow:
        (await uow.get(Note, note_id)).retitle(title)
        await uow.commit(grouped=True)


async def _transactions(engine, stream_ids: list[str]) -> dict[str, str]:
    """The transaction that wrote each stream's events (xmin)."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT stream_id, CAST(xmin AS text) FROM events WHERE stream_id = ANY(:s)"),
                                  {"s": stream_ids})
        return dict(rows.all())


async def _queued_behind_the_lock(engine, commands) -> tuple:
    """Runs `commands` while another transaction holds the append lock, so they queue together
    behind the first; returns the holder's connection (still locked) and the tasks."""
    holder = await engine.connect()
    await holder.begin()
    await event_store.lock_for_append(holder)
    tasks = [asyncio.create_task(commands[0])]
    await asyncio.sleep(0.3)  # the first is the committer's, waiting on the lock: the others queue behind it
    tasks += [asyncio.create_task(c) for c in commands[1:]]
    await asyncio.sleep(0.5)
    assert not any(t.done() for t in tasks), "nothing commits while the lock is held"
    return holder, tasks


async def test_commands_queued_together_share_one_transaction_and_are_answered_after_it(scratch_engine):
    first, *others = [str(uuid.uuid4()) for _ in range(5)]
    holder, tasks = await _queued_behind_the_lock(
        scratch_engine, [_create(scratch_engine, first, "first"), *(_create(scratch_engine, n, n) for n in others)])
    await holder.commit()
    await holder.close()
    await asyncio.gather(*tasks)
    written_by = await _transactions(scratch_engine, [first, *others])
    assert len({written_by[n] for n in others}) == 1, written_by  # queued while the first committed
    async with scratch_engine.connect() as conn:
        positions = [r.position for r in await event_store.read_all(conn, 0)]
    assert positions == list(range(1, 6))


async def test_a_command_whose_stream_moved_fails_alone_and_the_others_of_its_group_commit(scratch_engine):
    contested = await _new_note(scratch_engine, "v1")
    first, b, c = (str(uuid.uuid4()) for _ in range(3))
    holder = await scratch_engine.connect()
    await holder.begin()
    await event_store.append(holder, contested, "note", 1, [event_store.NewEvent(
        drafted(uuid.UUID(contested), "in time"), uuid.uuid4(), "corr")])  # holds the lock, commits below
    tasks = [asyncio.create_task(_create(scratch_engine, first, "first"))]
    await asyncio.sleep(0.3)
    tasks += [asyncio.create_task(c) for c in (
        _retitle(scratch_engine, contested, "stale"),  # reads version 1: the holder's has not committed
        _create(scratch_engine, b, "b"),
        _create(scratch_engine, c, "c"),
    )]
    await asyncio.sleep(0.5)
    assert not any(t.done() for t in tasks)
    await holder.commit()
    await holder.close()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert outcomes[0] is None and outcomes[2] is None and outcomes[3] is None, outcomes
    assert isinstance(outcomes[1], ConcurrencyConflict)
    assert outcomes[1].extra == {"stream_id": contested, "expected_version": 1, "actual_version": 2}
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, contested)).titles == ["v1", "in time"]
        assert [(await uow.get(Note, n)).titles for n in (first, b, c)] == [["first"], ["b"], ["c"]]


async def test_a_unit_of_work_that_wrote_something_else_commits_alone_with_that_write(scratch_engine):
    note_id, effect_id = str(uuid.uuid4()), uuid.uuid4()
    async with UnitOfWork(scratch_engine) as uow:
        await uow.conn.execute(sa.text("INSERT INTO effects (event_id, applied) VALUES (:e, 1)"), {"e": effect_id})
        note = Note(note_id)
        note.retitle("with a write")
        uow.add(note)
        await uow.commit(grouped=True)
    async with scratch_engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT applied FROM effects WHERE event_id = :e"), {"e": effect_id})).scalar() == 1
        row = (await conn.execute(sa.text(
            "SELECT CAST(e.xmin AS text) = CAST(f.xmin AS text) FROM events e, effects f"
            " WHERE e.stream_id = :s AND f.event_id = :e"), {"s": note_id, "e": effect_id})).scalar()
    assert row is True  # the events and the write in one transaction, as without `grouped`


async def test_more_commands_queued_than_the_pool_has_connections_all_commit(stack):
    # Each queued command hands its connection back before it waits: the group commits on a
    # connection of its own, which a pool full of waiting commands would never give it.
    async with migrated_schema(stack, FIXTURES / "backbone_migrations", pool_size=3, max_overflow=0,
                               pool_timeout=10) as engine:
        notes = [str(uuid.uuid4()) for _ in range(12)]
        holder = await engine.connect()
        await holder.begin()
        await event_store.lock_for_append(holder)
        first = asyncio.create_task(_create(engine, notes[0], "first"))
        await asyncio.sleep(0.3)  # the first leads, waiting on the lock; the others queue behind it
        others = [asyncio.create_task(_create(engine, n, n)) for n in notes[1:]]
        await asyncio.sleep(0.5)
        await holder.commit()
        await holder.close()
        async with asyncio.timeout(8):  # within the pool's timeout: nobody waited for a connection that long
            await asyncio.gather(first, *others)
        assert set(await _transactions(engine, notes)) == set(notes)
