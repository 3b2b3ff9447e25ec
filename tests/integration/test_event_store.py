"""The event store on a real PostgreSQL: optimistic concurrency and a gap-free global order."""

import asyncio
import random
import uuid

import pytest
import sqlalchemy as sa

from shared.backbone import event_store
from shared.backbone.errors import ConcurrencyConflict
from shared.backbone.unit_of_work import UnitOfWork
from tests.events_factory import Note, drafted

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


def _new_events(stream_id: str, *titles: str, causation_id: str = "") -> list[event_store.NewEvent]:
    return [event_store.NewEvent(drafted(uuid.UUID(stream_id), t), uuid.uuid4(), "corr", causation_id) for t in titles]


async def _rows(engine, after: int = 0) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(sa.text(
            "SELECT position, stream_id, version, payload->>'title' AS title, causation_id FROM events"
            " WHERE position > :p ORDER BY position"), {"p": after}))


async def test_append_many_keeps_versions_per_stream_and_positions_in_row_order(scratch_engine):
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    async with scratch_engine.begin() as conn:
        before = await event_store.append(conn, a, "note", 0, _new_events(a, "a1", "a2"))
    async with scratch_engine.begin() as conn:
        positions = await event_store.append_many(conn, [
            (b, "note", 0, _new_events(b, "b1", "b2")),
            (a, "note", 2, _new_events(a, "a3")),
            (c, "note", 0, _new_events(c, "c1")),
            (b, "note", 2, _new_events(b, "b3")),  # the same stream again, continuing where it stopped
        ])
    rows = await _rows(scratch_engine, before[-1])
    assert [(r.stream_id, r.version, r.title) for r in rows] == [
        (b, 1, "b1"), (b, 2, "b2"), (a, 3, "a3"), (c, 1, "c1"), (b, 3, "b3")]
    assert positions == [r.position for r in rows] == list(range(before[-1] + 1, before[-1] + 6))


async def test_append_many_draws_positions_in_row_order_for_a_large_batch(scratch_engine):
    streams = [str(uuid.uuid4()) for _ in range(150)]
    rng = random.Random(7)
    appends = [(s, "note", 0, _new_events(s, *(f"{s}-{v}" for v in range(1, rng.randint(1, 12))))) for s in streams]
    rng.shuffle(appends)
    async with scratch_engine.begin() as conn:
        positions = await event_store.append_many(conn, appends)
    expected = [(s, v, e.event.title) for s, _, _, events in appends for v, e in enumerate(events, start=1)]
    rows = await _rows(scratch_engine)
    assert [(r.stream_id, r.version, r.title) for r in rows] == expected
    assert positions == [r.position for r in rows] == list(range(1, len(expected) + 1))


async def test_a_conflict_in_one_stream_appends_nothing(scratch_engine):
    a, b, c, d = (str(uuid.uuid4()) for _ in range(4))
    async with scratch_engine.begin() as conn:
        await event_store.append(conn, a, "note", 0, _new_events(a, "a1", "a2"))
        await event_store.append(conn, d, "note", 0, _new_events(d, "d1"))
    async with scratch_engine.begin() as conn:
        with pytest.raises(ConcurrencyConflict) as conflict:
            await event_store.append_many(conn, [
                (b, "note", 0, _new_events(b, "b1")),
                (a, "note", 1, _new_events(a, "stale")),
                (c, "note", 0, _new_events(c, "c1")),
                (d, "note", 0, _new_events(d, "also stale")),
            ])
        assert conflict.value.extra == {"stream_id": a, "expected_version": 1, "actual_version": 2}
    assert [(r.stream_id, r.title) for r in await _rows(scratch_engine)] == [(a, "a1"), (a, "a2"), (d, "d1")]


async def test_a_guarded_stream_that_moved_is_named_before_the_appended_ones_and_nothing_is_appended(scratch_engine):
    a, g = (str(uuid.uuid4()) for _ in range(2))
    async with scratch_engine.begin() as conn:
        await event_store.append(conn, a, "note", 0, _new_events(a, "a1"))
        await event_store.append(conn, g, "note", 0, _new_events(g, "g1", "g2"))
    async with scratch_engine.begin() as conn:
        with pytest.raises(ConcurrencyConflict) as conflict:
            await event_store.append_many(conn, [(a, "note", 0, _new_events(a, "stale"))], unchanged={g: 1})
    assert conflict.value.extra == {"stream_id": g, "expected_version": 1, "actual_version": 2}
    assert [(r.stream_id, r.title) for r in await _rows(scratch_engine)] == [(a, "a1"), (g, "g1"), (g, "g2")]


async def test_an_append_waiting_for_the_lock_sees_what_was_committed_while_it_waited(scratch_engine):
    """The version check runs after the lock is granted, on a snapshot taken then: an append
    committed while this one waited on the lock is a conflict, not overwritten at the same version."""
    note_id = await _new_note(scratch_engine, ["first"])
    async with scratch_engine.connect() as holder, scratch_engine.connect() as waiter:
        await holder.begin()
        await event_store.lock_for_append(holder)
        await waiter.begin()
        waiting = asyncio.create_task(event_store.append(waiter, note_id, "note", 1, _new_events(note_id, "late")))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second append must wait for the lock"
        await event_store.append(holder, note_id, "note", 1, _new_events(note_id, "in time"))
        await holder.commit()
        with pytest.raises(ConcurrencyConflict) as conflict:
            await waiting
        await waiter.rollback()
    assert conflict.value.extra == {"stream_id": note_id, "expected_version": 1, "actual_version": 2}
    assert [r.title for r in await _rows(scratch_engine)] == ["first", "in time"]


async def test_concurrent_appenders_give_gap_free_positions_in_commit_order(scratch_engine):
    """Positions are 1..N with no gap, and a transaction committed later never holds a lower one."""
    committed: list[list[int]] = []

    async def appender(i: int) -> None:
        stream_id = str(uuid.uuid4())
        async with scratch_engine.connect() as conn:
            await conn.begin()
            positions = await event_store.append(conn, stream_id, "note", 0, _new_events(stream_id, *(f"t{i}",) * (1 + i % 3)))
            await asyncio.sleep(0.001 * (i % 4))  # others queue on the lock meanwhile
            await conn.commit()
            committed.append(positions)

    await asyncio.gather(*(appender(i) for i in range(40)))
    in_commit_order = [p for positions in committed for p in positions]
    assert in_commit_order == list(range(1, len(in_commit_order) + 1))
    assert [r.position for r in await _rows(scratch_engine)] == in_commit_order


async def test_a_stale_aggregate_fails_the_whole_unit_of_work(scratch_engine):
    note_id = await _new_note(scratch_engine, ["first"])
    fresh = Note(str(uuid.uuid4()))
    fresh.retitle("never")
    stale, other = UnitOfWork(scratch_engine), UnitOfWork(scratch_engine)
    async with stale, other:
        (await stale.get(Note, note_id)).retitle("stale")
        stale.add(fresh)
        (await other.get(Note, note_id)).retitle("other")
        await other.commit()
        with pytest.raises(ConcurrencyConflict):
            await stale.commit()
    async with scratch_engine.connect() as conn:
        assert await event_store.read_stream(conn, fresh.id) == []
        assert [r.event.title for r in await event_store.read_stream(conn, note_id)] == ["first", "other"]


async def test_a_unit_of_work_appends_many_aggregates_in_one_statement(scratch_engine):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    notes = [Note(str(uuid.uuid4())) for _ in range(50)]
    for note in notes:
        for t in ("a", "b", "c"):
            note.retitle(t)
    async with UnitOfWork(scratch_engine) as uow:
        for note in notes:
            uow.add(note)
        sa.event.listen(scratch_engine.sync_engine, "before_cursor_execute", count)
        try:
            await uow.commit()
        finally:
            sa.event.remove(scratch_engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements  # append_events: lock, versions, INSERT
    assert len(await _rows(scratch_engine)) == 150


async def test_staged_events_keep_their_own_causation_and_the_order_they_were_staged_in(scratch_engine):
    a, b = Note(str(uuid.uuid4())), Note(str(uuid.uuid4()))
    async with UnitOfWork(scratch_engine) as uow:
        uow.add(a)
        uow.add(b)
        uow.causation_id = "message-1"
        a.retitle("a1")
        assert uow.stage() == 1
        uow.causation_id = "message-2"
        b.retitle("b1")
        uow.stage()
        uow.causation_id = "message-3"
        a.retitle("a2")  # the same instance, after what was staged
        await uow.commit()
    rows = await _rows(scratch_engine)
    assert [(r.stream_id, r.version, r.causation_id) for r in rows] == [
        (a.id, 1, "message-1"), (b.id, 1, "message-2"), (a.id, 2, "message-3")]


async def test_a_second_instance_of_a_staged_stream_is_a_stale_write(scratch_engine):
    note_id = str(uuid.uuid4())
    async with UnitOfWork(scratch_engine) as uow:
        first = Note(note_id)
        first.retitle("first")
        uow.add(first)
        uow.stage()
        second = Note(note_id)  # as if created again instead of read through the unit of work
        second.retitle("second")
        uow.add(second)
        with pytest.raises(ConcurrencyConflict) as conflict:
            uow.stage()
    assert conflict.value.extra == {"stream_id": note_id, "expected_version": 0, "actual_version": 1}


async def test_a_guard_counts_what_its_own_transaction_staged_but_not_what_others_appended(scratch_engine):
    guarded_id, other_id = await _new_note(scratch_engine, ["g1"]), await _new_note(scratch_engine, ["o1"])
    async with UnitOfWork(scratch_engine) as uow:  # one message changes it, the next one relies on it
        (await uow.get(Note, guarded_id)).retitle("g2")
        uow.stage()
        uow.guard(await uow.get(Note, guarded_id))
        (await uow.get(Note, other_id)).retitle("o2")
        await uow.commit()
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, guarded_id)).titles == ["g1", "g2"]

    mine, theirs = UnitOfWork(scratch_engine), UnitOfWork(scratch_engine)
    async with mine, theirs:
        (await mine.get(Note, other_id)).retitle("o3")
        mine.stage()
        mine.guard(await mine.get(Note, guarded_id))
        (await theirs.get(Note, guarded_id)).retitle("g3")
        await theirs.commit()
        with pytest.raises(ConcurrencyConflict) as conflict:
            await mine.commit()
    assert conflict.value.extra == {"stream_id": guarded_id, "expected_version": 2, "actual_version": 3}


async def test_the_version_query_probes_the_index_even_when_planned_on_a_small_table(scratch_engine):
    """A connection prepares its statements once; a plan chosen while the table was small must not
    scan the whole table once it has grown (the generic plan is what PostgreSQL then keeps)."""
    for _ in range(10):
        await _new_note(scratch_engine, [f"t{i}" for i in range(7)])
    async with scratch_engine.connect() as conn:
        await conn.execute(sa.text("ANALYZE events"))
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("SET plan_cache_mode = force_generic_plan")
        await raw.execute(f"PREPARE versions AS {event_store._VERSIONS.text.replace(':stream_ids', '$1')}")
        plan = "\n".join(r[0] for r in await raw.fetch("EXPLAIN EXECUTE versions(ARRAY['x'])"))
        await raw.execute("DEALLOCATE versions; RESET plan_cache_mode")
    assert "Index" in plan and "Seq Scan on events" not in plan, plan
