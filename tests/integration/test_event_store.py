"""The event store on a real PostgreSQL: optimistic concurrency and a gap-free global order."""

import asyncio
import uuid

import pytest

from shared.backbone import event_store
from shared.backbone.errors import ConcurrencyConflict
from shared.backbone.unit_of_work import UnitOfWork
from tests.events_factory import Note

pytestmark = pytest.mark.integration


async def _new_note(engine, titles: list[str]) -> str:
    note = Note(str(uuid.uuid4()))
    for t in titles:
        note.retitle(t)
    async with UnitOfWork(engine) as uow:
        uow.add(note)
        await uow.commit()
    return note.id


async def test_aggregate_is_rebuilt_from_its_events(scratch_engine):
    note_id = await _new_note(scratch_engine, ["a", "b", "c"])
    async with UnitOfWork(scratch_engine) as uow:
        note = await uow.get(Note, note_id)
    assert note.titles == ["a", "b", "c"]
    assert note.version == 3


async def test_stale_write_fails_naming_expected_and_actual_version(scratch_engine):
    note_id = await _new_note(scratch_engine, ["first"])
    first, second = UnitOfWork(scratch_engine), UnitOfWork(scratch_engine)
    async with first, second:
        mine = await first.get(Note, note_id)
        theirs = await second.get(Note, note_id)
        mine.retitle("mine")
        theirs.retitle("theirs")
        await first.commit()
        with pytest.raises(ConcurrencyConflict) as conflict:
            await second.commit()
    assert conflict.value.extra == {"stream_id": note_id, "expected_version": 1, "actual_version": 2}
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, note_id)).titles == ["first", "mine"]


async def test_reader_never_skips_an_event_committed_out_of_order(scratch_engine):
    """Transaction A appends first; B appends second and tries to commit first. A reader polling
    all the while must see every event, in position order, and never a later position before an
    earlier one is visible (the BIGSERIAL gap problem)."""
    seen: list[int] = []
    stop = asyncio.Event()

    async def reader():
        checkpoint = 0
        while not stop.is_set():
            async with scratch_engine.connect() as conn:
                for recorded in await event_store.read_all(conn, checkpoint):
                    seen.append(recorded.position)
                    checkpoint = recorded.position
            await asyncio.sleep(0.005)

    reading = asyncio.create_task(reader())
    a, b = UnitOfWork(scratch_engine), UnitOfWork(scratch_engine)
    async with a, b:
        note_a, note_b = Note(str(uuid.uuid4())), Note(str(uuid.uuid4()))
        note_a.retitle("from A")
        note_b.retitle("from B")
        a.add(note_a)
        b.add(note_b)
        await a.flush()  # A holds its position, uncommitted
        b_commit = asyncio.create_task(b.commit())  # B wants to commit while A is open
        await asyncio.sleep(0.3)
        assert not b_commit.done(), "B must wait for A: otherwise its later position could be read first"
        assert seen == [], "nothing is visible while A is open"
        await a.commit()
        await b_commit
    await asyncio.sleep(0.2)
    stop.set()
    await reading
    async with scratch_engine.connect() as conn:
        everything = [r.position for r in await event_store.read_all(conn, 0)]
    assert seen == everything == sorted(everything)
    assert len(seen) == 2


async def test_concurrent_appends_are_all_read_in_order(scratch_engine):
    """Many writers at once: a reader following the log sees each event exactly once, in order."""
    seen: list[int] = []
    stop = asyncio.Event()

    async def reader():
        checkpoint = 0
        while True:
            writers_done = stop.is_set()  # before reading: a read that started earlier may miss the last commit
            async with scratch_engine.connect() as conn:
                batch = await event_store.read_all(conn, checkpoint)
            for recorded in batch:
                seen.append(recorded.position)
                checkpoint = recorded.position
            if writers_done and not batch:
                return

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(_new_note(scratch_engine, [f"t{i}"]) for i in range(60)))
    stop.set()
    await reading
    assert len(seen) == 60
    assert seen == sorted(seen)
