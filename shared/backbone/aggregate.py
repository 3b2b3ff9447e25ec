"""Event-sourced aggregates: methods check rules and record events; state changes only in `apply`."""

from functools import singledispatchmethod
from typing import Iterable, Self

from shared.events import Event


class Aggregate:
    """Base for aggregates. Subclasses register `apply` handlers per event type:

        @Aggregate.apply.register
        def _(self, event: ContractDrafted) -> None: ...
    """

    stream_type: str = "aggregate"

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

    @singledispatchmethod
    def apply(self, event: Event) -> None:
        raise TypeError(f"{type(self).__name__} cannot apply {type(event).__name__}")

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
