"""The library's use cases on the in-memory unit of work: a clause key is held by one clause, the
lists page by id, a retried create answers the first one (the same rules the PostgreSQL index keeps,
tests/integration/test_clm_library.py)."""

import uuid

import pytest

from shared.backbone.errors import ConflictingState
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from services.clm.adapters.memory_views import MemoryViews
from services.clm.application import library


@pytest.fixture
def uow():
    store = MemoryEventStore()
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def _create(uow, key: str, clause_id: uuid.UUID | None = None):
    return await library.create_clause(uow(), clause_id or uuid.uuid4(), key=key, title=key.title(),
                                       text=f"The {key} clause.", fallbacks=[])


async def test_a_second_clause_with_a_taken_key_is_refused_naming_the_holder(uow):
    first, _ = await _create(uow, "liability")

    with pytest.raises(ConflictingState) as refused:
        await _create(uow, "liability")

    assert refused.value.rule == "clause.key_taken" and refused.value.field == "key"
    assert refused.value.extra["clause_id"] == first.id
    assert [row.key for row in await library.list_clauses(uow(), None, 10)] == ["liability"]


async def test_a_retried_create_answers_the_first_clause_and_adds_nothing(uow):
    clause_id = uuid.uuid4()
    created = await _create(uow, "payment", clause_id)
    again = await _create(uow, "payment", clause_id)

    assert (created[1], again[1]) == (True, False) and again[0].id == created[0].id
    assert len(await library.list_clauses(uow(), None, 10)) == 1


async def test_clauses_page_by_id(uow):
    for key in ("alpha", "beta", "gamma", "delta", "epsilon"):
        await _create(uow, key)

    first = await library.list_clauses(uow(), None, 2)
    rest = await library.list_clauses(uow(), first[-1].clause_id, 10)

    assert len(first) == 2 and len(rest) == 3
    assert sorted(r.clause_id for r in first + rest) == [r.clause_id for r in first + rest]
