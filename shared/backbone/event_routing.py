"""How a consumer finds the handler of an event: one table of event type -> handler per
subscription, declared where the subscription is. The topics to subscribe to follow from the
table (each event class names its topic), so a handler added for an event of a new topic needs no
second list; an event nobody listed is skipped, which is how a consumer stays unaffected by
events added to a topic later."""

from typing import Awaitable, Callable, Mapping

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.base import Event
from shared.events.envelope import Envelope

Handler = Callable[[UnitOfWork, Envelope], Awaitable[None]]
HandlerTable = Mapping[type[Event], Handler]


def topics_of(handlers: HandlerTable) -> list[str]:
    return sorted({event_type.topic for event_type in handlers})


def dispatcher(handlers: HandlerTable) -> Handler:
    """One handler that runs the table's handler of each event's own type."""
    table = dict(handlers)

    async def dispatch(uow: UnitOfWork, envelope: Envelope) -> None:
        handler = table.get(type(envelope.event))
        if handler is not None:
            await handler(uow, envelope)

    dispatch.handles = frozenset(table)  # type: ignore[attr-defined]
    return dispatch


def merged(*tables: HandlerTable) -> dict[type[Event], Handler]:
    """One table from several: an event type in more than one runs each of their handlers, in
    the order of the tables, in the same unit of work."""
    by_type: dict[type[Event], list[Handler]] = {}
    for table in tables:
        for event_type, handler in table.items():
            by_type.setdefault(event_type, []).append(handler)
    return {event_type: handlers[0] if len(handlers) == 1 else _in_turn(handlers) for event_type, handlers in by_type.items()}


def _in_turn(handlers: list[Handler]) -> Handler:
    async def each(uow: UnitOfWork, envelope: Envelope) -> None:
        for handler in handlers:
            await handler(uow, envelope)

    return each
