"""CloudEvents 1.0 on Kafka, binary content mode.

Binary mode: the attributes travel as `ce_*` headers and the Kafka value is the bare JSON payload,
so consumers can route on headers without parsing the value, and the value validates against the
exported JSON Schema as it is. The Kafka key is the `partitionkey` extension (the aggregate id).
Extensions: `partitionkey`, `schemaversion`, `streamversion` (the aggregate's version after this
event), `correlationid`, `causationid`.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from uuid import UUID, uuid4

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from shared.events import ALL_EVENTS, event_class
from shared.events.base import Event

SPECVERSION = "1.0"


class InvalidEnvelope(ValueError):
    """A Kafka message that is not one of our CloudEvents; it goes to the dead-letter topic."""


@dataclass(frozen=True)
class Envelope:
    event: Event
    stream_version: int
    event_id: UUID = field(default_factory=uuid4)
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    correlation_id: str = ""
    causation_id: str = ""

    @property
    def key(self) -> str:
        return self.event.aggregate_id


def to_kafka(envelope: Envelope) -> tuple[str, list[tuple[str, bytes]], bytes, str]:
    """Returns (topic, headers, value, key) for a producer."""
    event = envelope.event
    key = event.aggregate_id
    headers = kafka_headers(type(event), key, envelope.event_id, envelope.time, envelope.stream_version,
                            envelope.correlation_id, envelope.causation_id)
    return event.topic, headers, json.dumps(event.model_dump(mode="json")).encode(), key


def stored_to_kafka(event_type: str, schema_version: int, payload: str, stream_version: int, event_id: UUID,
                    time: dt.datetime, correlation_id: str, causation_id: str
                    ) -> tuple[str, list[tuple[str, bytes]], bytes, str]:
    """As `to_kafka`, for an event as the event store holds it (the relay's path): the payload goes
    out as the JSON stored, without a model round trip. It is still validated as its event first
    (in pydantic's JSON parser, the cost of a `json.loads`): a row that is not a valid event (an
    unknown type, a payload its schema refuses, written by hand or by a faulty migration) raises
    here, before anything of its batch is sent, as it did when the relay rebuilt the event from
    the row. The validated event also gives the key (its `key_field`)."""
    cls = event_class(event_type, schema_version)
    key = cls.model_validate_json(payload).aggregate_id
    headers = kafka_headers(cls, key, event_id, time, stream_version, correlation_id, causation_id)
    return cls.topic, headers, payload.encode(), key


def kafka_headers(cls: type[Event], key: str, event_id: UUID, time: dt.datetime, stream_version: int,
                  correlation_id: str, causation_id: str) -> list[tuple[str, bytes]]:
    """The binary-mode headers the cloudevents SDK writes for our attributes, byte for byte and in
    its order (tests/unit/test_event_contracts.py compares them), built without it: the SDK's
    CloudEvent object, its validation and its header loop were most of the relay's CPU. What its
    validation could refuse of ours is checked here: an empty subject, a naive time."""
    if not key:
        raise ValueError(f"{cls.event_type}: an empty {cls.key_field} cannot be a CloudEvent subject")
    if time.tzinfo is None:
        raise ValueError("a CloudEvent time must be timezone aware")
    event_id = str(event_id)
    stamp = time.isoformat()
    if stamp.endswith("+00:00"):
        stamp = stamp[:-6] + "Z"
    source, type_, specversion, content_type, schemaversion = _constant_headers(cls)
    key_bytes = key.encode()
    headers = [("ce_id", event_id.encode()), source, type_, specversion, ("ce_time", stamp.encode()),
               ("ce_subject", key_bytes), content_type, ("ce_partitionkey", key_bytes), schemaversion,
               ("ce_streamversion", str(stream_version).encode()),
               ("ce_correlationid", (correlation_id or event_id).encode())]
    if causation_id:
        headers.append(("ce_causationid", causation_id.encode()))
    return headers


@cache
def _constant_headers(cls: type[Event]) -> tuple[tuple[str, bytes], ...]:
    return (("ce_source", cls.source.encode()), ("ce_type", cls.cloudevent_type().encode()),
            ("ce_specversion", SPECVERSION.encode()), ("content-type", b"application/json"),
            ("ce_schemaversion", str(cls.schema_version).encode()))


class ForeignSource(InvalidEnvelope):
    """A well-formed event from a source that does not own it, or on a topic it does not travel
    on: whoever produced it is not the service that owns these events. Broker ACLs should stop it
    first; this refuses it where they are misconfigured."""


def from_kafka(headers: list[tuple[str, bytes]] | tuple, key: bytes | None, value: bytes | None,
               topic: str | None = None) -> Envelope:
    """The envelope of a consumed message; `topic`, where given, is the topic it was read from.

    Read directly from the headers when the message has the shape `to_kafka` writes (the
    cloudevents SDK parses the time with dateutil and the payload into a dict first: most of a
    decode's cost). Anything else, refused or merely unusual, is read the SDK's way, which
    judges it as it always has: so the fast reading changes what is accepted or refused in
    nothing, only how long it takes."""
    try:
        return _from_binary_headers(headers, key, value, topic)
    except ForeignSource:
        raise  # judged on the same attributes the SDK reads
    except Exception:
        pass
    return _from_kafka_with_sdk(headers, key, value, topic)


def _from_kafka_with_sdk(headers, key: bytes | None, value: bytes | None, topic: str | None) -> Envelope:
    try:
        message = KafkaMessage(headers=dict(headers or ()), key=key, value=value or b"")
        cloud_event = from_binary_event(message)
        attributes = cloud_event.get_attributes()
        cls = _event_class(attributes, topic)
        data = cloud_event.get_data()
        if isinstance(data, (bytes, str)):
            data = json.loads(data)
        return _envelope(attributes, cls.model_validate(data))
    except ForeignSource:
        raise
    except Exception as exc:  # any malformed header, payload or unknown type
        raise InvalidEnvelope(f"{type(exc).__name__}: {exc}") from exc


class _Unusual(Exception):
    """Not the shape `to_kafka` writes: left to the SDK to judge."""


# What to_kafka writes (datetime.isoformat, UTC as Z); fromisoformat reads these exactly as isoparse does.
_RFC3339_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")
_EXTENSION_NAME = re.compile(r"[a-z0-9]+")
_NAMED_ATTRIBUTES = {"id", "source", "type", "specversion", "time", "subject", "datacontenttype", "dataschema"}
_JSON_CONTENT_TYPE = re.compile(JSONFormat.JSON_CONTENT_TYPE_PATTERN)


def _from_binary_headers(headers, key: bytes | None, value: bytes | None, topic: str | None) -> Envelope:
    """The attributes as the SDK's `from_binary` reads them, for messages it accepts as they are;
    `_Unusual` (or any error) for anything else."""
    attributes: dict[str, object] = {}
    for name, raw in dict(headers or ()).items():
        if (attribute := _attribute(name)) is not None:
            attributes[attribute] = raw.decode("utf-8")
    if key is not None:
        attributes["partitionkey"] = key.decode("utf-8") if isinstance(key, bytes) else key
    time = attributes.get("time")
    if not (attributes.get("specversion") == SPECVERSION and attributes.get("id") and attributes.get("source")
            and attributes.get("type") and isinstance(time, str) and _RFC3339_TIME.fullmatch(time)):
        raise _Unusual()
    if not _JSON_CONTENT_TYPE.match(attributes.get("datacontenttype", "application/json")):
        raise _Unusual()
    if "" in (attributes.get("subject"), attributes.get("datacontenttype"), attributes.get("dataschema")):
        raise _Unusual()
    attributes["time"] = dt.datetime.fromisoformat(time)
    cls = _event_class(attributes, topic)
    return _envelope(attributes, cls.model_validate_json(value or b""))


@lru_cache(maxsize=256)
def _attribute(header: str) -> str | None:
    """The attribute a header carries, named as the SDK names it (None: not an attribute);
    `_Unusual` for an extension name the SDK refuses."""
    name = header.lower()
    if name == "content-type":
        return "datacontenttype"
    if not name.startswith("ce_"):
        return None
    name = name[3:]
    if name not in _NAMED_ATTRIBUTES and (name == "data" or not _EXTENSION_NAME.fullmatch(name)):
        raise _Unusual()
    return name


def _event_class(attributes: dict, topic: str | None) -> type[Event]:
    event_type = attributes["type"].removeprefix("io.clm-platform.").rsplit(".v", 1)[0]
    cls = event_class(event_type, int(attributes.get("schemaversion", "1")))
    _check_owner(cls, attributes["source"], topic)
    return cls


def _envelope(attributes: dict, event: Event) -> Envelope:
    return Envelope(
        event=event,
        stream_version=int(attributes.get("streamversion", "0")),
        event_id=UUID(attributes["id"]),
        time=attributes["time"],
        correlation_id=attributes.get("correlationid", ""),
        causation_id=attributes.get("causationid", ""),
    )


def _check_owner(cls: type[Event], source: str, topic: str | None) -> None:
    if source != cls.source:
        raise ForeignSource(f"source {source} does not own {cls.event_type} (its owner is {cls.source})")
    owner = _owners().get(topic)
    if owner is not None and owner != source:  # a topic no event names (a test's) has no owner to check
        raise ForeignSource(f"source {source} does not own topic {topic} (its owner is {owner})")


@cache
def _owners() -> dict[str, str]:
    """Each topic's owner: the source of the events registered on it (one service per topic)."""
    return {cls.topic: cls.source for cls in ALL_EVENTS}
