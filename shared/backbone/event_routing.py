"""How a consumer finds the handler of an event: one table of event type -> handler per
subscription, declared where the subscription is. The topics to subscribe to follow from the
table (each event class names its topic), so a handler added for an event of a new topic needs no
second list; an event nobody listed is skipped, which is how a consumer stays unaffected by
events added to a topic later.

A consumer applies a fetch's messages of one partition in one transaction (consumer.py). Two kinds
of table entries let a handler use that instead of paying statements per event:
- `Batched(handle_many)`: event types mapped to the same `Batched` object form a *run* when they
  follow each other in the batch; the run goes to `handle_many` as one list, in partition order,
  to apply set-based (one statement per table instead of one per event). An event of another
  handler ends the run, so nothing is reordered; an event nobody handles does not.
- `Prefetching(handler, streams)`: a plain handler that reads aggregates; before the batch's
  handlers run, the streams of all its envelopes are read in one query (`uow.prefetch`).
Both are still plain handlers when called with one envelope (a batch retried message by message,
`apply_once`), so the result never depends on how messages were grouped.

`merged` joins the tables of several modules of one consumer. An event type several of them handle
runs each handler in turn; when all of them are `Batched`, the type stays batched: one `Batched`
per combination of handlers (the same object for every type with that combination, so such events
still form runs), which hands the run to each handler in turn. That is the same as applying the
events one by one only because the modules of a consumer write rows of their own (each its
tables), so one module's writes never depend on another's.
"""

from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping, Sequence

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.base import Event
from shared.events.envelope import Envelope

Handler = Callable[[UnitOfWork, Envelope], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, list[Envelope]], Awaitable[None]]
HandlerTable = Mapping[type[Event], Handler]


class Batched:
    """A handler of runs: `handle_many(uow, envelopes)` gets consecutive events of its types together.
    It must leave the same rows as applying them one by one in that order; one that records events
    calls `uow.caused_by(envelope)` before each envelope's events."""

    def __init__(self, handle_many: BatchHandler):
        self.handle_many = handle_many

    async def __call__(self, uow: UnitOfWork, envelope: Envelope) -> None:
        await self.handle_many(uow, [envelope])


class Prefetching:
    """A plain handler whose streams (`streams(envelope)`: the aggregate ids it will `get`) are read
    for the whole batch at once before any handler runs."""

    def __init__(self, handler: Handler, streams: Callable[[Envelope], Sequence[str]]):
        self.handler = handler
        self.streams = streams

    async def __call__(self, uow: UnitOfWork, envelope: Envelope) -> None:
        await self.handler(uow, envelope)


@dataclass(frozen=True)
class Run:
    """Consecutive envelopes for one handler: a `Batched` run, or a single envelope for a plain one."""
    handler: Handler
    envelopes: list[Envelope]

    @property
    def batched(self) -> bool:
        return isinstance(self.handler, Batched)


def topics_of(handlers: HandlerTable) -> list[str]:
    return sorted({event_type.topic for event_type in handlers})


class Dispatch:
    """One handler that runs the table's handler of each event's own type; for a batch, `runs`
    groups it and `streams` names what to prefetch."""

    def __init__(self, handlers: HandlerTable):
        self._table = dict(handlers)
        self.handles = frozenset(self._table)

    async def __call__(self, uow: UnitOfWork, envelope: Envelope) -> None:
        handler = self._table.get(type(envelope.event))
        if handler is not None:
            await handler(uow, envelope)

    def runs(self, envelopes: Sequence[Envelope]) -> list[Run]:
        runs: list[Run] = []
        for envelope in envelopes:
            handler = self._table.get(type(envelope.event))
            if handler is None:
                continue
            if isinstance(handler, Batched) and runs and runs[-1].handler is handler:
                runs[-1].envelopes.append(envelope)
            else:
                runs.append(Run(handler, [envelope]))
        return runs

    def streams(self, envelopes: Sequence[Envelope]) -> list[str]:
        wanted: dict[str, None] = {}
        for envelope in envelopes:
            for handler in _parts(self._table.get(type(envelope.event))):
                if isinstance(handler, Prefetching):
                    wanted.update(dict.fromkeys(str(s) for s in handler.streams(envelope)))
        return list(wanted)


def dispatcher(handlers: HandlerTable) -> Dispatch:
    return Dispatch(handlers)


def merged(*tables: HandlerTable) -> dict[type[Event], Handler]:
    """One table from several: an event type in more than one runs each of their handlers, in
    the order of the tables, in the same unit of work. When all of a type's handlers are `Batched`,
    its runs go to each in turn (one `Batched` per combination); otherwise one event at a time (a
    `Batched` handler shared with a plain one gets runs of one)."""
    by_type: dict[type[Event], list[Handler]] = {}
    for table in tables:
        for event_type, handler in table.items():
            by_type.setdefault(event_type, []).append(handler)
    combined: dict[tuple[int, ...], Batched] = {}

    def joined(handlers: list[Handler]) -> Handler:
        if len(handlers) == 1:
            return handlers[0]
        if not all(isinstance(h, Batched) for h in handlers):
            return _InTurn(handlers)
        key = tuple(id(h) for h in handlers)
        if key not in combined:
            combined[key] = _BatchedInTurn(handlers)
        return combined[key]

    return {event_type: joined(handlers) for event_type, handlers in by_type.items()}


class _BatchedInTurn(Batched):
    def __init__(self, handlers: list[Batched]):
        self.handlers = handlers
        super().__init__(self._each)

    async def _each(self, uow: UnitOfWork, envelopes: list[Envelope]) -> None:
        for handler in self.handlers:
            await handler.handle_many(uow, envelopes)


class _InTurn:
    def __init__(self, handlers: list[Handler]):
        self.handlers = handlers

    async def __call__(self, uow: UnitOfWork, envelope: Envelope) -> None:
        for handler in self.handlers:
            await handler(uow, envelope)


def _parts(handler: Handler | None) -> list[Handler]:
    if handler is None:
        return []
    return list(handler.handlers) if isinstance(handler, (_InTurn, _BatchedInTurn)) else [handler]
