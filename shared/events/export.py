"""Generates the published event contracts from the models: one JSON Schema per event version and
an AsyncAPI 3.0 document. `python -m shared.events.export` writes them; `--check` only compares
(exit 1 and the list of differing files) so CI fails when a model changed without regenerating."""

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.events import ALL_EVENTS, Event, topics

HERE = Path(__file__).parent
SCHEMA_DIR = HERE / "schemas"
ASYNCAPI = HERE / "asyncapi.yaml"
REPO = HERE.parent.parent
COMMAND = "python -m shared.events.export"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"


def schema_id(cls: type[Event]) -> str:
    return f"{cls.event_type}.v{cls.schema_version}"


def _description(cls: type[Event]) -> str:
    return inspect.cleandoc(cls.__doc__ or "")


def _summary(cls: type[Event]) -> str:
    return _description(cls).split("\n\n")[0].replace("\n", " ")


def _service(source: str) -> str:
    return source.removeprefix("/services/")


def event_json_schema(cls: type[Event]) -> dict[str, Any]:
    """The standalone JSON Schema of one event version, as published in schemas/."""
    return {
        **cls.model_json_schema(),
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:clm-platform:events:{cls.event_type}:v{cls.schema_version}",
        "title": cls.event_type,
        "description": _description(cls),
        "x-topic": cls.topic,
        "x-key-field": cls.key_field,
        "x-cloudevents-type": cls.cloudevent_type(),
        "x-source": cls.source,
    }


def _headers_schema() -> dict[str, Any]:
    def text(description: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **extra}

    properties = {
        "ce_id": text("Unique event id (UUID). Deduplicate on it: delivery is at least once.", format="uuid"),
        "ce_source": text("The producing service, e.g. /services/clm."),
        "ce_type": text("io.clm-platform.<EventType>.v<N>: event type and payload schema version."),
        "ce_specversion": text("CloudEvents spec version.", const="1.0"),
        "ce_time": text("When the event happened (RFC 3339, UTC).", format="date-time"),
        "ce_subject": text("The aggregate id (equals the Kafka key)."),
        "ce_partitionkey": text("The aggregate id: the Kafka key, so one aggregate stays in one partition."),
        "ce_schemaversion": text("Payload schema version N, as in ce_type.", pattern="^[1-9][0-9]*$"),
        "ce_streamversion": text(
            "The aggregate's version after this event: 1, 2, 3, ... per key on a topic. "
            "A repeat is a duplicate; a jump is a gap or reorder.",
            pattern="^[1-9][0-9]*$",
        ),
        "ce_correlationid": text("Id shared by everything one request caused (the event id if none)."),
        "ce_causationid": text("ce_id of the event this one reacts to; absent when a user command caused it."),
        "content-type": text("Media type of the Kafka value.", const="application/json"),
    }
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka binary content mode (ce_* headers, UTF-8).",
        "properties": properties,
        "required": [name for name in properties if name != "ce_causationid"],
    }


def _hoist(defs: dict[str, Any], schemas: dict[str, Any]) -> None:
    # Nested models (Party, ...) become shared components; one name must mean one schema.
    for name, schema in defs.items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different nested models are both named {name!r}; rename one")


def asyncapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {"CloudEventHeaders": _headers_schema()}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {
        topic: {"address": topic, "messages": {}, "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}}}
        for topic in topics.ALL
    }
    operations: dict[str, Any] = {}
    producers: dict[str, set[str]] = {}

    for cls in ALL_EVENTS:
        name = schema_id(cls)
        payload = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        _hoist(payload.pop("$defs", {}), schemas)
        schemas[name] = {**payload, "title": cls.event_type, "description": _description(cls)}
        key_schema = {**cls.model_json_schema()["properties"][cls.key_field]}
        key_schema["description"] = f"The aggregate id: payload field `{cls.key_field}`."
        messages[name] = {
            "name": cls.event_type,
            "title": f"{cls.event_type} v{cls.schema_version}",
            "summary": _summary(cls),
            "contentType": "application/json",
            "headers": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEventHeaders"},
                    {"properties": {
                        "ce_type": {"const": cls.cloudevent_type()},
                        "ce_source": {"const": cls.source},
                        "ce_schemaversion": {"const": str(cls.schema_version)},
                    }},
                ]
            },
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "correlationId": {"location": "$message.header#/ce_correlationid"},
            "bindings": {"kafka": {"key": key_schema, "bindingVersion": KAFKA_BINDING_VERSION}},
            "x-key-field": cls.key_field,
            "x-json-schema": f"schemas/{name}.json",
        }
        channels[cls.topic]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        producers.setdefault(cls.topic, set()).add(f"{cls.source} (key: `{cls.key_field}`)")
        service = _service(cls.source)
        operation = operations.setdefault(f"{service}.send.{cls.topic}", {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cls.topic}"},
            "summary": f"{service} publishes its events via the outbox relay (at least once).",
            "messages": [],
        })
        operation["messages"].append({"$ref": f"#/channels/{cls.topic}/messages/{name}"})

    for topic, sources in producers.items():
        channels[topic]["description"] = f"Produced by {', '.join(sorted(sources))}. The Kafka key is the aggregate id."

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CLM platform events",
            "version": "1.0.0",
            "description": (
                "Public domain events of the contract lifecycle platform, as CloudEvents 1.0 in Kafka "
                f"binary mode. Generated from shared/events by `{COMMAND}`; see shared/events/README.md."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=120, default_flow_style=False)


def generate() -> dict[Path, str]:
    """Every generated file and its exact content."""
    files = {SCHEMA_DIR / f"{schema_id(cls)}.json": _json(event_json_schema(cls)) for cls in ALL_EVENTS}
    files[ASYNCAPI] = _yaml(asyncapi_document())
    return files


def stale_files(expected: dict[Path, str]) -> list[Path]:
    """Schema files on disk that no model generates (a removed event or version)."""
    return sorted(p for p in SCHEMA_DIR.glob("*.json") if p not in expected) if SCHEMA_DIR.is_dir() else []


def differences() -> list[str]:
    """Repo-relative paths whose content on disk is not what the models generate."""
    expected = generate()
    changed = [p for p, text in expected.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    return [str(p.relative_to(REPO)) for p in sorted(changed + stale_files(expected))]


def write() -> None:
    expected = generate()
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path in stale_files(expected):
        path.unlink()
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--check"]:
        diff = differences()
        if diff:
            print(f"event contracts out of date (run `{COMMAND}`):", *diff, sep="\n  ", file=sys.stderr)
            return 1
        return 0
    if args:
        print(f"usage: {COMMAND} [--check]", file=sys.stderr)
        return 2
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
