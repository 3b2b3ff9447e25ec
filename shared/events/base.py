"""What every public event has in common: a versioned, documented payload keyed by its aggregate.

A concrete event (a class that names its `event_type`) registers itself when it is defined, so
the catalogue, the schemas and the decoding of stored and consumed events follow the classes:
adding an event is writing its class in the module of its topic, nothing else.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

# Units on one line or sold product: bounded so every consumer's 32-bit integer column holds them
# (a fuzzed 67,049,076,825 was accepted once and broke the projection's rebuild).
MAX_QUANTITY = 1_000_000_000


class Event(BaseModel):
    """A domain event payload, published on Kafka as the `data` of a CloudEvent.

    Consumers ignore fields they do not know (`extra="ignore"`), so adding an optional field
    is compatible within a version; anything else is a new version (see shared/events/README.md).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str]
    source: ClassVar[str]
    # The payload field holding the aggregate id: the stream id, Kafka key and CloudEvent subject.
    key_field: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            _register(cls)

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.key_field))

    @classmethod
    def cloudevent_type(cls) -> str:
        return f"io.clm-platform.{cls.event_type}.v{cls.schema_version}"


_REGISTRY: dict[tuple[str, int], type[Event]] = {}


def _register(cls: type[Event]) -> None:
    key = (cls.event_type, cls.schema_version)
    if key in _REGISTRY and _REGISTRY[key] is not cls:
        raise TypeError(f"{cls.__qualname__}: {key[0]} v{key[1]} is already {_REGISTRY[key].__qualname__}")
    for attribute in ("topic", "source", "key_field"):
        if not hasattr(cls, attribute):
            raise TypeError(f"{cls.__qualname__} names no {attribute}")
    _REGISTRY[key] = cls


def registered_events() -> tuple[type[Event], ...]:
    """Every concrete event class defined so far, in the order of definition."""
    return tuple(_REGISTRY.values())


def event_class(event_type: str, schema_version: int) -> type[Event]:
    try:
        return _REGISTRY[(event_type, schema_version)]
    except KeyError:
        raise UnknownEvent(event_type, schema_version) from None


class UnknownEvent(LookupError):
    def __init__(self, event_type: str, schema_version: int):
        super().__init__(f"no schema for event {event_type} v{schema_version}")
