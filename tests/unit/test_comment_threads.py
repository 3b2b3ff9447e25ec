"""Comment threads (phase 3): the CommentThread rules, and its use cases on the in-memory unit of
work with the query table of threads."""

import datetime as dt
import uuid

import pytest

from shared.backbone.errors import AlreadyExists, ConcurrencyConflict, DomainError, NotFound, RuleKind
from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from shared.events.comments import CommentAdded, CommentThreadReopened, CommentThreadResolved
from services.clm.adapters.memory_views import MemoryViews
from services.clm.application import comments as use_cases
from services.clm.domain import rules
from services.clm.domain.comments import CommentThread, check_version
from services.clm.domain.contract import Contract
from tests.events_factory import approved_quote

AT = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=1)


def thread(**changes) -> CommentThread:
    fields = dict(comment_id=uuid.uuid4(), version_number=2, clause_number="7.2", text="Cap too low?",
                  author="counsel-lena", at=AT) | changes
    return CommentThread.start(uuid.uuid4(), uuid.uuid4(), **fields)


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as refusal:
        call()
    return refusal.value


# -- the rules -----------------------------------------------------------------------------------

def test_a_thread_starts_with_a_comment_on_a_clause_of_a_version_and_is_open():
    t = thread()
    [added] = t.pending_events
    assert isinstance(added, CommentAdded)
    assert (added.thread_id, added.version_number, added.clause_number, added.reply_to, added.author) == (
        t.thread_id, 2, "7.2", None, "counsel-lena")
    assert t.is_open and t.version == 1


def test_a_thread_on_the_whole_version_has_no_clause():
    assert thread(clause_number=None).clause_number is None
    assert thread(clause_number="").clause_number is None


def test_a_comment_needs_text():
    assert refused(lambda: thread(text="   ")).rule == rules.COMMENT_TEXT_REQUIRED


def test_a_reply_answers_a_comment_of_the_thread_and_keeps_its_version_and_clause():
    t = thread()
    first = t.comments[0].comment_id
    reply_id = uuid.uuid4()
    assert t.reply(comment_id=reply_id, reply_to=first, text="Agreed, 2x fees", author="sales-ann", at=LATER)
    reply = t.pending_events[-1]
    assert (reply.reply_to, reply.version_number, reply.clause_number, reply.contract_id) == (
        first, 2, "7.2", t.contract_id)
    assert [c.comment_id for c in t.comments] == [first, reply_id]
    # a reply to the reply is a reply in the same thread
    t.reply(comment_id=uuid.uuid4(), reply_to=reply_id, text="OK", author="cm-max", at=LATER)
    assert len(t.comments) == 3


def test_a_reply_to_a_comment_outside_the_thread_is_refused_as_invalid():
    error = refused(lambda: thread().reply(comment_id=uuid.uuid4(), reply_to=uuid.uuid4(), text="?",
                                           author="sales-ann", at=LATER))
    assert (error.rule, error.kind, error.field) == (rules.COMMENT_REPLY_TO_UNKNOWN, RuleKind.INVALID, "reply_to")


def test_a_reply_retried_with_its_id_records_nothing_and_another_reply_with_that_id_is_refused():
    t = thread()
    first, reply_id = t.comments[0].comment_id, uuid.uuid4()
    t.reply(comment_id=reply_id, reply_to=first, text="Yes", author="sales-ann", at=LATER)
    assert not t.reply(comment_id=reply_id, reply_to=first, text="Yes", author="sales-ann", at=LATER)
    assert len(t.pending_events) == 2
    error = refused(lambda: t.reply(comment_id=reply_id, reply_to=first, text="No", author="sales-ann", at=LATER))
    assert (error.rule, error.kind) == (rules.COMMENT_ID_TAKEN, RuleKind.CONFLICT)


def test_resolved_only_when_open_and_reopened_only_when_resolved():
    t = thread()
    error = refused(lambda: t.reopen(by="cm-max", at=LATER))
    assert (error.rule, error.kind) == (rules.COMMENT_REOPEN_ONLY_WHEN_RESOLVED, RuleKind.CONFLICT)
    t.resolve(by="cm-max", at=LATER, note=" fixed in v3 ")
    assert isinstance(t.pending_events[-1], CommentThreadResolved) and t.pending_events[-1].note == "fixed in v3"
    assert not t.is_open and t.resolved.by == "cm-max"
    error = refused(lambda: t.resolve(by="cm-max", at=LATER))
    assert (error.rule, error.kind) == (rules.COMMENT_RESOLVE_ONLY_WHEN_OPEN, RuleKind.CONFLICT)
    t.reopen(by="sales-ann", at=LATER)
    assert isinstance(t.pending_events[-1], CommentThreadReopened) and t.is_open and t.resolved is None
    t.resolve(by="cm-max", at=LATER)  # and resolved again
    assert not t.is_open


def test_a_resolved_thread_takes_no_reply_until_reopened():
    t = thread()
    t.resolve(by="cm-max", at=LATER)
    error = refused(lambda: t.reply(comment_id=uuid.uuid4(), reply_to=t.comments[0].comment_id, text="But...",
                                    author="sales-ann", at=LATER))
    assert (error.rule, error.kind) == (rules.COMMENT_REPLY_ONLY_WHEN_OPEN, RuleKind.CONFLICT)


def test_a_thread_rebuilt_from_its_events_is_the_thread_that_recorded_them():
    t = thread()
    t.reply(comment_id=uuid.uuid4(), reply_to=t.comments[0].comment_id, text="Yes", author="sales-ann", at=LATER)
    t.resolve(by="cm-max", at=LATER)
    again = CommentThread.rehydrate(t.id, t.pending_events)
    assert (again.contract_id, again.version_number, again.clause_number, again.comments, again.resolved,
            again.version) == (t.contract_id, 2, "7.2", t.comments, t.resolved, 3)


def test_the_version_must_be_one_of_the_contracts():
    check_version(2, [1, 2])
    for number, known in ((3, [1, 2]), (1, [])):  # a contract not drafted yet has nothing to comment on
        error = refused(lambda: check_version(number, known))
        assert (error.rule, error.field) == (rules.COMMENT_VERSION_UNKNOWN, "version_number")


# -- the use cases ---------------------------------------------------------------------------------

@pytest.fixture
def uow():
    store = MemoryEventStore()
    return lambda: MemoryUnitOfWork(store, views=MemoryViews)


async def requested(uow) -> uuid.UUID:
    """A contract under negotiation, with versions 1 (generated) and 2 (the counterparty's)."""
    from tests.unit.test_drafting_and_negotiation import CAP, LIABILITY, TEMPLATE, clause, document

    contract = Contract.request_from_quote(approved_quote())
    contract.draft_from_template(template=TEMPLATE, vendor="Initech", start_date=dt.date(2027, 1, 1), variables={},
                                 clauses=[clause("7", LIABILITY)], terms=CAP, document=document(1), by="counsel-lena", at=AT)
    contract.add_version(origin="counterparty_upload", author="sales-ann", at=AT, document=document(2),
                         clauses=[clause("7", LIABILITY)], terms=CAP)
    async with uow() as u:
        u.add(contract)
        await u.commit()
    return contract.contract_uuid


async def start(uow, contract_id, thread_id=None, **changes):
    fields = dict(version_number=1, clause_number="7", text="Why 30 days?", author="finance-fay", at=AT) | changes
    return await use_cases.start_thread(uow(), contract_id, thread_id or uuid.uuid4(), **fields)


async def test_a_thread_on_a_contract_that_is_not_clms_is_not_found(uow):
    with pytest.raises(NotFound) as refusal:
        await start(uow, uuid.uuid4())
    assert refusal.value.rule == "contract.not_found"


async def test_a_thread_start_retried_with_its_id_is_harmless_and_other_terms_are_refused(uow):
    contract_id, thread_id = await requested(uow), uuid.uuid4()
    first, created = await start(uow, contract_id, thread_id)
    again, created_again = await start(uow, contract_id, thread_id)
    assert (created, created_again, again.comments[0].comment_id) == (True, False, first.comments[0].comment_id)
    with pytest.raises(AlreadyExists):
        await start(uow, contract_id, thread_id, text="Something else")


async def test_the_query_table_follows_each_change_and_filters_by_status_version_and_clause(uow):
    contract_id = await requested(uow)
    on_7, _ = await start(uow, contract_id)
    on_v2, _ = await start(uow, contract_id, version_number=2, clause_number=None)
    await start(uow, await requested(uow))  # another contract's thread
    _, reply_id, created = await use_cases.reply(uow(), on_7.thread_id, reply_to=on_7.comments[0].comment_id,
                                                 text="Cash flow", author="sales-ann", at=LATER)
    assert created
    await use_cases.change_thread(uow(), on_v2.thread_id, lambda t: t.resolve(by="cm-max", at=LATER, note="done"))

    async def listed(**filters):
        rows = await use_cases.list_threads(uow(), contract_id, after=None, limit=50, **filters)
        return [r["thread_id"] for r in rows]

    assert set(await listed()) == {on_7.thread_id, on_v2.thread_id}
    assert await listed(status="open") == [on_7.thread_id]
    assert await listed(status="resolved", version_number=2) == [on_v2.thread_id]
    assert await listed(clause_number="7") == [on_7.thread_id]
    [row] = await use_cases.list_threads(uow(), contract_id, after=None, limit=50, status="open")
    assert [(c["author"], c["reply_to"]) for c in row["comments"]] == [
        ("finance-fay", None), ("sales-ann", str(on_7.comments[0].comment_id))]
    assert row["version"] == 2 and row["comments"][1]["comment_id"] == str(reply_id)
    first_page = await use_cases.list_threads(uow(), contract_id, after=None, limit=1)
    second_page = await use_cases.list_threads(uow(), contract_id, after=first_page[0]["thread_id"], limit=1)
    assert {first_page[0]["thread_id"], second_page[0]["thread_id"]} == {on_7.thread_id, on_v2.thread_id}


async def test_a_change_on_a_version_the_thread_moved_on_from_is_refused(uow):
    thread, _ = await start(uow, await requested(uow))
    with pytest.raises(ConcurrencyConflict):
        await use_cases.change_thread(uow(), thread.thread_id, lambda t: t.resolve(by="cm-max", at=LATER), 7)


async def test_an_unknown_thread_is_not_found(uow):
    with pytest.raises(NotFound) as refusal:
        await use_cases.get_thread(uow(), uuid.uuid4())
    assert refusal.value.rule == "comment_thread.not_found"
