"""Decoding a consumed message reads the headers directly, without the cloudevents SDK, yet gives
the same envelope as the SDK's reading for every event type, and accepts or refuses every
malformed or unusual message exactly as the SDK's reading does."""

import datetime as dt
import json
import uuid
from dataclasses import replace

import pytest

from shared.events import ALL_EVENTS, export
from shared.events.envelope import (
    Envelope, ForeignSource, InvalidEnvelope, _from_binary_headers, _from_kafka_with_sdk, from_kafka, to_kafka,
)
from shared.events.contracts import ContractDrafted
from tests.unit.test_event_contracts import sample


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=export.schema_id)
def test_every_event_type_decodes_directly_to_the_envelope_the_sdk_reads(cls):
    envelope = Envelope(sample(cls), stream_version=7, time=dt.datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=dt.UTC),
                        correlation_id="req-ä 42", causation_id=str(uuid.uuid4()))
    topic, headers, value, key = to_kafka(envelope)

    direct = _from_binary_headers(headers, key.encode(), value, topic)  # not left to the SDK
    assert direct == _from_kafka_with_sdk(headers, key.encode(), value, topic) == envelope
    assert direct.time.utcoffset() == dt.timedelta(0)


def _message(**changes) -> tuple[list[tuple[str, bytes]], bytes, bytes, str]:
    """A ContractDrafted as to_kafka writes it, with headers replaced (None: removed) or added."""
    topic, headers, value, key = to_kafka(Envelope(sample(ContractDrafted), stream_version=1, causation_id="c-1"))
    wire = dict(headers)
    for name, raw in changes.items():
        if name in ("value", "key", "topic"):
            continue
        if raw is None:
            wire.pop(name, None)
        else:
            wire[name] = raw
    return list(wire.items()), changes.get("key", key.encode()), changes.get("value", value), changes.get("topic", topic)


def _outcome(decode, headers, key, value, topic):
    try:
        return decode(headers, key, value, topic)
    except InvalidEnvelope as exc:
        return type(exc)


payload = sample(ContractDrafted).model_dump(mode="json")
UNUSUAL = {
    "no id": {"ce_id": None},
    "empty id": {"ce_id": b""},
    "id not a uuid": {"ce_id": b"42"},
    "no time": {"ce_time": None},
    "no source": {"ce_source": None},
    "another source": {"ce_source": b"/services/outsider"},
    "no type": {"ce_type": None},
    "unknown type": {"ce_type": b"io.clm-platform.NoSuchThing.v1"},
    "unknown schema version": {"ce_schemaversion": b"99"},
    "schema version not a number": {"ce_schemaversion": b"one"},
    "stream version not a number": {"ce_streamversion": b"x"},
    "no specversion": {"ce_specversion": None},
    "specversion 0.3": {"ce_specversion": b"0.3"},
    "specversion 2.0": {"ce_specversion": b"2.0"},
    "time without offset": {"ce_time": b"2026-01-01T08:30:00"},
    "time with an offset": {"ce_time": b"2026-01-01T08:30:00+05:30"},
    "time in nanoseconds": {"ce_time": b"2026-01-01T08:30:00.123456789Z"},
    "time at 24:00": {"ce_time": b"2026-01-01T24:00:00Z"},
    "time on the 13th month": {"ce_time": b"2026-13-01T08:30:00Z"},
    "time with a lowercase z": {"ce_time": b"2026-01-01t08:30:00z"},
    "time not a time": {"ce_time": b"soon"},
    "header not utf-8": {"ce_correlationid": b"\xff\xfe"},
    "key not utf-8": {"key": b"\xff"},
    "no key": {"key": None},
    "empty subject": {"ce_subject": b""},
    "extension with a dash": {"ce_trace-id": b"t"},
    "extension named data": {"ce_data": b"x"},
    "header name in capitals": {"CE_SUBJECT": b"other"},
    "content type text": {"content-type": b"text/plain"},
    "no content type": {"content-type": None},
    "empty payload": {"value": b""},
    "payload not json": {"value": b"{not json"},
    "payload an array": {"value": b"[]"},
    "payload not utf-8": {"value": b"\xff\xfe{}"},
    "payload missing a field": {"value": json.dumps({k: v for k, v in payload.items() if k != "title"}).encode()},
    "payload with a wrong type": {"value": json.dumps({**payload, "start_date": "someday"}).encode()},
    "payload with a later field": {"value": json.dumps({**payload, "added_later": 1}).encode()},
    "payload with numbers as strings": {"value": json.dumps({**payload, "title": 12}).encode()},
    "on a topic of another owner": {"topic": "order_sync.service_contracts.v1"},
    "on a topic nobody owns": {"topic": "a-test-topic"},
}


@pytest.mark.parametrize("changes", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_an_unusual_or_malformed_message_is_accepted_or_refused_as_the_sdk_judges_it(changes):
    message = _message(**changes)
    sdk, direct = _outcome(_from_kafka_with_sdk, *message), _outcome(from_kafka, *message)
    made_up = {"ce_id": "event_id", "ce_time": "time"}  # without these, the SDK makes up a new one (now, uuid4)
    for header, made in made_up.items():
        if header in changes and isinstance(sdk, Envelope):
            sdk, direct = replace(sdk, **{made: None}), replace(direct, **{made: None})
    assert direct == sdk


def test_the_refusals_above_are_refusals():
    """The comparisons above are not all between acceptances: the SDK refuses these."""
    refused = {name for name, changes in UNUSUAL.items() if isinstance(_outcome(_from_kafka_with_sdk, *_message(**changes)), type)}
    assert {"empty id", "id not a uuid", "unknown type", "time without offset", "time not a time", "empty payload",
            "payload missing a field", "extension with a dash", "header not utf-8", "payload with a wrong type"} <= refused
    with pytest.raises(ForeignSource):
        from_kafka(*_message(ce_source=b"/services/outsider"))
    with pytest.raises(ForeignSource, match="does not own topic"):
        from_kafka(*_message(topic="order_sync.service_contracts.v1"))
