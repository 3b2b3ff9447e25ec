"""What every public event has in common: a versioned, documented payload keyed by its aggregate."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


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

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.key_field))

    @classmethod
    def cloudevent_type(cls) -> str:
        return f"io.clm-platform.{cls.event_type}.v{cls.schema_version}"
