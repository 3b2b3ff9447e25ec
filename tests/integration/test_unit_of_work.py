"""The unit of work on a real PostgreSQL: an aggregate is loaded only from a stream of its own type.

An id of the wrong kind (a service contract's id where a sold product's is expected) must not be
rebuilt as the wrong aggregate: it is not found (get, require) or, for a create, already taken
(add). Memo applies the same events as Note, so without the check rebuilding would even succeed."""

import uuid

import pytest

from shared.backbone import event_store
from shared.backbone.errors import AlreadyExists, NotFound
from shared.backbone.unit_of_work import UnitOfWork
from tests.events_factory import Memo, Note

pytestmark = pytest.mark.integration


async def _stored_note(engine) -> str:
    note = Note(str(uuid.uuid4()))
    note.retitle("first")
    async with UnitOfWork(engine) as uow:
        uow.add(note)
        await uow.commit()
    return note.id


async def test_read_stream_names_the_stream_type(scratch_engine):
    note_id = await _stored_note(scratch_engine)
    async with scratch_engine.connect() as conn:
        assert [r.stream_type for r in await event_store.read_stream(conn, note_id)] == ["note"]


async def test_a_stream_of_another_type_is_not_found_in_the_store(scratch_engine):
    note_id = await _stored_note(scratch_engine)
    async with UnitOfWork(scratch_engine) as uow:
        assert await uow.get(Memo, note_id) is None
        with pytest.raises(NotFound) as refused:
            await uow.require(Memo, note_id, "memo")
        assert refused.value.rule == "memo.not_found"
        assert (await uow.get(Note, note_id)).titles == ["first"]


async def test_a_stream_of_another_type_is_not_found_in_the_cache(scratch_engine):
    note = Note(str(uuid.uuid4()))
    note.retitle("new")
    async with UnitOfWork(scratch_engine) as uow:
        uow.add(note)
        assert await uow.get(Memo, note.id) is None
        assert await uow.get(Note, note.id) is note
    note_id = await _stored_note(scratch_engine)
    async with UnitOfWork(scratch_engine) as uow:
        loaded = await uow.get(Note, note_id)
        assert await uow.get(Memo, note_id) is None
        assert await uow.get(Note, note_id) is loaded


async def test_a_create_with_the_id_of_a_stream_of_another_type_is_refused(scratch_engine):
    note_id = await _stored_note(scratch_engine)
    async with UnitOfWork(scratch_engine) as uow:
        assert await uow.get(Memo, note_id) is None
        memo = Memo(note_id)
        memo.retitle("mine")
        with pytest.raises(AlreadyExists) as refused:
            uow.add(memo)
        assert refused.value.rule == "memo.already_exists"
        assert "note" in refused.value.message
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, note_id)).titles == ["first"]


async def test_a_create_with_the_id_of_an_aggregate_of_another_type_in_the_cache_is_refused(scratch_engine):
    note = Note(str(uuid.uuid4()))
    note.retitle("new")
    async with UnitOfWork(scratch_engine) as uow:
        uow.add(note)
        uow.add(note)  # adding what is already there again is fine
        with pytest.raises(AlreadyExists):
            uow.add(Memo(note.id))
        await uow.commit()
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, note.id)).titles == ["new"]


async def test_prefetched_streams_are_got_as_if_read_then_one_query_for_all(scratch_engine):
    """UnitOfWork.prefetch (an import's batch): found and missing ids alike, types still checked."""
    note_ids = [await _stored_note(scratch_engine) for _ in range(3)]
    missing = str(uuid.uuid4())
    async with UnitOfWork(scratch_engine) as uow:
        reads = []
        original = uow._read
        uow._read = lambda stream_id: reads.append(stream_id) or original(stream_id)
        await uow.prefetch([*note_ids, missing, note_ids[0]])
        assert [(await uow.get(Note, i)).titles for i in note_ids] == [["first"]] * 3
        assert await uow.get(Note, missing) is None
        assert await uow.get(Memo, note_ids[1]) is None
        assert reads == []  # every stream came from the one query
        note = await uow.get(Note, note_ids[2])
        note.retitle("second")
        await uow.commit()
    async with UnitOfWork(scratch_engine) as uow:
        assert (await uow.get(Note, note_ids[2])).titles == ["first", "second"]
