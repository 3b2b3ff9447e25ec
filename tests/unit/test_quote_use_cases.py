"""Order sync's quote use cases and its QuoteValidityEnded handler, on the in-memory unit of work
and indexes: idempotent creation, nothing kept of a refused command, the quote index in step."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import ConcurrencyConflict, DomainError
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.envelope import Envelope
from shared.events.lifecycle import QuoteValidityEnded
from services.order_sync.adapters.memory_indexes import MemoryIndexes
from services.order_sync.application import quotes
from services.order_sync.domain import rules
from services.order_sync.domain.quote import QuoteState
from tests.unit.test_order_sync_use_cases import FixedClock
from tests.unit.test_quote import VALID_UNTIL, entry, line

TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def new_uow(store):
    return lambda: MemoryUnitOfWork(store, views=MemoryIndexes)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TODAY)


async def listed(new_uow, **filters) -> list:
    where = {"state": None, "account_id": None, "opportunity_id": None, "after": None, "limit": 50, **filters}
    return await quotes.list_quotes(new_uow(), **where)


async def test_a_create_retried_with_the_same_terms_returns_the_quote_and_other_terms_are_refused(new_uow, clock, store):
    quote_id, terms = uuid.uuid4(), entry(line())
    first, is_new = await quotes.draft_quote(new_uow(), clock, quote_id, terms)
    again, again_new = await quotes.draft_quote(new_uow(), clock, quote_id, terms)
    assert (is_new, again_new) == (True, False) and again.version == first.version == 1
    with pytest.raises(DomainError) as refused:
        await quotes.draft_quote(new_uow(), clock, quote_id, entry(line(), term_months=12))
    assert (refused.value.rule, refused.value.field) == ("quote.already_exists", "quote_id")
    await quotes.approve_quote(new_uow(), clock, quote_id, "sales-ann", None)
    replayed, _ = await quotes.draft_quote(new_uow(), clock, quote_id, terms)  # a late retry sees the approval
    assert replayed.state == QuoteState.CUSTOMER_APPROVED and len(store.events) == 2


async def test_a_refused_create_leaves_nothing_behind(new_uow, clock, store):
    with pytest.raises(DomainError):
        await quotes.draft_quote(new_uow(), clock, uuid.uuid4(), entry(currency="XYZ"))
    assert store.events == [] and await listed(new_uow) == []


async def test_revision_keeps_the_number_and_follows_if_match(new_uow, clock):
    quote_id = uuid.uuid4()
    await quotes.draft_quote(new_uow(), clock, quote_id, entry(number="Q-7"))
    revised = await quotes.revise_quote(new_uow(), clock, quote_id, entry(number="", term_months=12), 1)
    assert (revised.terms.number, revised.terms.term_months, revised.version) == ("Q-7", 12, 2)
    with pytest.raises(ConcurrencyConflict):
        await quotes.revise_quote(new_uow(), clock, quote_id, entry(number="", term_months=24), 1)
    [row] = await listed(new_uow)
    assert (row.number, row.version, row.state) == ("Q-7", 2, "draft")


async def test_the_list_filters_and_pages_by_quote_id(new_uow, clock):
    ids = sorted(uuid.uuid4() for _ in range(5))
    for i, quote_id in enumerate(ids):
        await quotes.draft_quote(new_uow(), clock, quote_id, entry(opportunity_id=f"OPP-{i % 2}"))
    await quotes.reject_quote(new_uow(), clock, ids[0], "no budget", None)
    first = await listed(new_uow, limit=2)
    rest = await listed(new_uow, after=first[-1].quote_id, limit=10)
    assert [r.quote_id for r in first + rest] == ids
    assert [r.quote_id for r in await listed(new_uow, opportunity_id="OPP-0")] == ids[0::2]
    assert [r.quote_id for r in await listed(new_uow, state=QuoteState.REJECTED)] == [ids[0]]
    assert await listed(new_uow, account_id="nobody") == []


async def test_validity_ended_expires_a_draft_once_and_leaves_an_approved_quote(new_uow, clock, store):
    draft_id, approved_id = uuid.uuid4(), uuid.uuid4()
    for quote_id in (draft_id, approved_id):
        await quotes.draft_quote(new_uow(), clock, quote_id, entry())
    await quotes.approve_quote(new_uow(), clock, approved_id, "sales-ann", None)
    ended_at = dt.datetime(2026, 12, 31, 23, tzinfo=dt.UTC)
    for quote_id in (draft_id, approved_id, draft_id, uuid.uuid4()):  # redelivered, and an unknown quote
        event = QuoteValidityEnded(quote_id=quote_id, valid_until=VALID_UNTIL, time_zone="Europe/Berlin", ended_at=ended_at)
        async with new_uow() as uow:
            await quotes.end_validity(uow, Envelope(event, stream_version=1))
            await uow.commit()
    expired = await quotes.get_quote(new_uow(), draft_id)
    assert (expired.state, expired.expired_at, expired.version) == (QuoteState.EXPIRED, ended_at, 2)
    assert (await quotes.get_quote(new_uow(), approved_id)).state == QuoteState.CUSTOMER_APPROVED
    assert [r.state for r in await listed(new_uow, state=QuoteState.EXPIRED)] == ["expired"]


async def test_approval_after_valid_until_is_refused(new_uow, clock):
    quote_id = uuid.uuid4()
    await quotes.draft_quote(new_uow(), clock, quote_id, entry(time_zone="UTC"))
    clock.set(VALID_UNTIL + dt.timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        await quotes.approve_quote(new_uow(), clock, quote_id, "sales-ann", None)
    assert refused.value.rule == rules.QUOTE_VALIDITY_ENDED
