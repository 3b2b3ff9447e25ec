"""The relay's CloudEvents encoding, built without the cloudevents SDK, is what the SDK writes: the
same headers byte for byte and in the same order, and a value that is the same JSON. Consumers
(ours and downstream) were written against the SDK's output, so a difference would be a change of
the published contract."""

import dataclasses
import datetime as dt
import json
import uuid

import pytest
from cloudevents.core.bindings.kafka import to_binary_event
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from shared.events import ALL_EVENTS, UnknownEvent, export
from shared.events.envelope import Envelope, from_kafka, stored_to_kafka, to_kafka
from tests.unit.test_event_contracts import sample

events = pytest.mark.parametrize("cls", ALL_EVENTS, ids=export.schema_id)

TIMES = [dt.datetime(2026, 1, 1, 8, 30, tzinfo=dt.UTC),  # no fraction of a second
         dt.datetime(2026, 12, 4, 5, 6, 7, 891011, tzinfo=dt.UTC),
         dt.datetime(2026, 3, 29, 2, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))]


def _sdk(envelope: Envelope) -> tuple[list[tuple[str, bytes]], bytes]:
    """What to_kafka wrote up to 2026-12-03, through the SDK."""
    event = envelope.event
    attributes = {
        "id": str(envelope.event_id), "source": event.source, "type": event.cloudevent_type(),
        "specversion": "1.0", "time": envelope.time, "subject": event.aggregate_id,
        "datacontenttype": "application/json", "partitionkey": event.aggregate_id,
        "schemaversion": str(event.schema_version), "streamversion": str(envelope.stream_version),
        "correlationid": envelope.correlation_id or str(envelope.event_id),
    }
    if envelope.causation_id:
        attributes["causationid"] = envelope.causation_id
    message = to_binary_event(CloudEvent(attributes=attributes, data=event.model_dump(mode="json")))
    return list(message.headers.items()), message.value


def _envelopes(cls) -> list[Envelope]:
    return [Envelope(sample(cls), stream_version=v, time=t, correlation_id=c, causation_id=k)
            for v, t, c, k in [(1, TIMES[0], "", ""), (3, TIMES[1], "req-42", str(uuid.uuid4())),
                               (12345, TIMES[2], "corr", "")]]


@events
def test_to_kafka_writes_what_the_cloudevents_sdk_writes(cls):
    for envelope in _envelopes(cls):
        headers, value = _sdk(envelope)
        topic, ours, our_value, key = to_kafka(envelope)
        assert ours == headers
        assert our_value == value
        assert (topic, key) == (cls.topic, envelope.event.aggregate_id)


@events
def test_a_stored_event_goes_out_with_the_sdks_headers_and_its_payload_as_stored(cls):
    for envelope in _envelopes(cls):
        event = envelope.event
        # as PostgreSQL returns a jsonb column as text: its own key order and spacing
        stored = json.dumps(dict(sorted(json.loads(event.model_dump_json()).items(), key=lambda kv: (len(kv[0]), kv[0]))))
        headers, value = _sdk(envelope)
        topic, ours, our_value, key = stored_to_kafka(
            cls.event_type, cls.schema_version, stored, envelope.stream_version, envelope.event_id, envelope.time,
            envelope.correlation_id, envelope.causation_id)
        assert ours == headers
        assert our_value == stored.encode()
        assert json.loads(our_value) == json.loads(value)
        assert (topic, key) == (cls.topic, event.aggregate_id)
        back = from_kafka(ours, key.encode(), our_value, topic)
        assert back == dataclasses.replace(envelope, correlation_id=envelope.correlation_id or str(envelope.event_id))


@events
def test_a_stored_row_that_is_not_a_valid_event_is_refused(cls):
    payload = json.loads(sample(cls).model_dump_json())
    args = (1, uuid.uuid4(), TIMES[0], "", "")
    with pytest.raises(ValidationError):
        stored_to_kafka(cls.event_type, cls.schema_version, json.dumps({**payload, cls.key_field: None}), *args)
    with pytest.raises(ValidationError):
        stored_to_kafka(cls.event_type, cls.schema_version, json.dumps([payload]), *args)
    with pytest.raises(ValidationError):
        stored_to_kafka(cls.event_type, cls.schema_version, '{"truncated": ', *args)
    with pytest.raises(UnknownEvent):
        stored_to_kafka(cls.event_type, cls.schema_version + 100, json.dumps(payload), *args)


def test_a_naive_time_is_refused_as_the_sdk_refuses_it():
    cls = ALL_EVENTS[0]
    with pytest.raises(ValueError, match="timezone"):
        to_kafka(Envelope(sample(cls), stream_version=1, time=dt.datetime(2026, 1, 1)))
