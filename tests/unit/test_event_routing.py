"""How a dispatcher groups a consumed batch: runs of a `Batched` handler's events together, in order,
never across an event of another handler; which streams its `Prefetching` handlers will read."""

import asyncio

from shared.backbone.event_routing import Batched, Prefetching, dispatcher, merged
from shared.events.contracts import ContractDrafted
from shared.events.envelope import Envelope
from shared.events.quotes import QuoteApproved
from tests.events_factory import approved_quote, drafted


async def _plain(uow, envelope):
    pass


def _drafts(n):
    return [Envelope(drafted(), 1) for _ in range(n)]


def test_consecutive_events_of_a_batched_handler_form_one_run_and_another_handler_ends_it():
    many = Batched(lambda uow, envelopes: None)
    dispatch = dispatcher({ContractDrafted: many, QuoteApproved: _plain})
    d1, d2, d3, d4 = _drafts(4)
    q = Envelope(approved_quote(), 1)
    runs = dispatch.runs([d1, d2, q, d3, d4])
    assert [(run.handler, run.envelopes, run.batched) for run in runs] == [
        (many, [d1, d2], True), (_plain, [q], False), (many, [d3, d4], True)]


def test_events_nobody_handles_neither_run_nor_end_a_run():
    many = Batched(lambda uow, envelopes: None)
    dispatch = dispatcher({ContractDrafted: many})
    d1, d2 = _drafts(2)
    runs = dispatch.runs([d1, Envelope(approved_quote(), 1), d2])
    assert [(run.handler, run.envelopes) for run in runs] == [(many, [d1, d2])]


def test_two_batched_handlers_alternating_give_runs_of_their_own():
    first, second = Batched(lambda u, e: None), Batched(lambda u, e: None)
    dispatch = dispatcher({ContractDrafted: first, QuoteApproved: second})
    d1, d2 = _drafts(2)
    q1, q2 = Envelope(approved_quote(), 1), Envelope(approved_quote(), 1)
    assert [run.envelopes for run in dispatch.runs([d1, d2, q1, q2, d1])] == [[d1, d2], [q1, q2], [d1]]


def test_a_plain_handler_gets_one_event_per_run():
    dispatch = dispatcher({ContractDrafted: _plain})
    drafts = _drafts(3)
    assert [run.envelopes for run in dispatch.runs(drafts)] == [[d] for d in drafts]


def test_a_batched_handler_called_with_one_event_gets_a_run_of_one():
    seen = []

    async def handle_many(uow, envelopes):
        seen.append(envelopes)

    (d,) = _drafts(1)
    asyncio.run(dispatcher({ContractDrafted: Batched(handle_many)})(None, d))
    assert seen == [[d]]


def test_streams_of_prefetching_handlers_are_named_once_each_in_order_also_when_merged():
    reads = Prefetching(_plain, lambda envelope: [str(envelope.event.contract_id)])
    dispatch = dispatcher(merged({ContractDrafted: reads}, {ContractDrafted: _plain}, {QuoteApproved: _plain}))
    d1, d2 = _drafts(2)
    streams = dispatch.streams([d1, Envelope(approved_quote(), 1), d2, d1])
    assert streams == [str(d1.event.contract_id), str(d2.event.contract_id)]


def _recording(seen: list, name: str) -> Batched:
    async def handle_many(uow, envelopes):
        seen.append((name, envelopes))
    return Batched(handle_many)


def test_a_type_whose_merged_handlers_are_all_batched_stays_batched_and_each_gets_the_run_in_table_order():
    seen = []
    first, second = _recording(seen, "first"), _recording(seen, "second")
    table = merged({ContractDrafted: first, QuoteApproved: first}, {ContractDrafted: second, QuoteApproved: second})
    assert table[ContractDrafted] is table[QuoteApproved]  # one object per combination: the types share runs
    dispatch = dispatcher(table)
    d1, d2 = _drafts(2)
    q = Envelope(approved_quote(), 1)
    (run,) = dispatch.runs([d1, q, d2])
    assert run.batched and run.envelopes == [d1, q, d2]
    asyncio.run(run.handler.handle_many(None, run.envelopes))
    assert seen == [("first", [d1, q, d2]), ("second", [d1, q, d2])]


def test_a_type_batched_alone_and_one_batched_with_another_handler_give_runs_of_their_own():
    first, second = Batched(lambda u, e: None), Batched(lambda u, e: None)
    dispatch = dispatcher(merged({ContractDrafted: first, QuoteApproved: first}, {ContractDrafted: second}))
    d1, d2 = _drafts(2)
    q = Envelope(approved_quote(), 1)
    assert [run.envelopes for run in dispatch.runs([d1, d2, q, d1])] == [[d1, d2], [q], [d1]]


def test_a_batched_handler_merged_with_a_plain_one_gets_one_event_at_a_time():
    seen = []
    dispatch = dispatcher(merged({ContractDrafted: _recording(seen, "batched")}, {ContractDrafted: _plain}))
    d1, d2 = _drafts(2)
    runs = dispatch.runs([d1, d2])
    assert [(run.batched, run.envelopes) for run in runs] == [(False, [d1]), (False, [d2])]
    asyncio.run(runs[0].handler(None, d1))
    assert seen == [("batched", [d1])]


def test_streams_of_prefetching_handlers_merged_with_batched_ones_are_still_named():
    reads = Prefetching(_plain, lambda envelope: [str(envelope.event.contract_id)])
    dispatch = dispatcher(merged({ContractDrafted: reads}, {ContractDrafted: Batched(lambda u, e: None)}))
    (d,) = _drafts(1)
    assert dispatch.streams([d]) == [str(d.event.contract_id)]
