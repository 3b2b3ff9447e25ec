"""Event-sourced aggregates: methods check rules and record events; state changes only in
handlers marked `@applies`, one per event type, looked up in the aggregate's own class."""

import inspect
from typing import Callable, ClassVar, Iterable, Self

from shared.events.base import Event


def applies(handler: Callable) -> Callable:
    """Marks `def _on_x(self, event: SomeEvent)` as the handler of SomeEvent (by its annotation)."""
    annotation = list(inspect.signature(handler).parameters.values())[1].annotation
    if not (isinstance(annotation, type) and issubclass(annotation, Event)):
        raise TypeError(f"{handler.__qualname__}: annotate the event parameter with an Event class")
    handler.applies_to = annotation
    return handler


class Aggregate:
    stream_type: ClassVar[str] = "aggregate"
    _handlers: ClassVar[dict[type[Event], Callable]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # Each class gets its own table (inheriting its parents'), so no aggregate applies another's events.
        cls._handlers = {**cls._handlers}
        for member in vars(cls).values():
            if event_type := getattr(member, "applies_to", None):
                cls._handlers[event_type] = member

    def __init__(self, aggregate_id: str):
        self.id = aggregate_id
        self.version = 0
        self._pending: list[Event] = []

    @classmethod
    def rehydrate(cls, aggregate_id: str, history: Iterable[Event]) -> Self:
        aggregate = cls(aggregate_id)
        for event in history:
            aggregate.apply(event)
            aggregate.version += 1
        return aggregate

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {type(event).__name__}")
        handler(self, event)

    def record(self, event: Event) -> None:
        self.apply(event)
        self.version += 1
        self._pending.append(event)

    @property
    def pending_events(self) -> list[Event]:
        return list(self._pending)

    @property
    def persisted_version(self) -> int:
        return self.version - len(self._pending)

    def mark_persisted(self) -> None:
        self._pending.clear()
