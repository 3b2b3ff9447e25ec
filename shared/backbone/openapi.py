"""What every route can answer, documented in one place: each operation of a service's OpenAPI lists
the refusals it can really give, with the `application/problem+json` body (`Problem`) they carry.

The statuses follow from what the route is, by one rule (`refusals_of`), not from a list kept by
hand beside each route:

| status | documented on | because |
|---|---|---|
| 401 | routes that depend on `auth.authenticated` | no or an invalid bearer token |
| 403 | routes with a `require_roles` dependency | the token holds none of the roles |
| 404 | routes with a path parameter | the record named in the path does not exist |
| 409 | every /api/v1 change (not GET) | the record's state, a taken id or a concurrent write refuses it |
| 415 | routes that take a body | the body is not JSON (`rest.json_body`) |
| 422 | routes with a parameter or a body | it does not match the schema, or a rule refuses the values |
| 503 | every route under /api/v1 | a dependency (PostgreSQL) is unreachable |

A route that cannot answer one of them says so with `@not_answering(...)` (the clock, which
touches no database); one that answers more declares it with FastAPI's `responses=` (a create's
replay, `rest.replayed`). FastAPI's own 422 body (`HTTPValidationError`) is replaced: the app
answers with a problem body (app.py's error handlers). Free text a request carries (a string with
no pattern, format or enum, in a parameter or a request body) is documented as holding no NUL
character, which the app refuses (`rest.declared_input`); a parameter's schema has no `null`.
"""

import json
from typing import Callable

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from shared.backbone.auth import authenticated
from shared.backbone.rest import NO_NUL_PATTERN

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/v1/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class FieldError(BaseModel):
    field: str = Field(description="the field at fault, as a dotted path (`lines.0.quantity`), or a header's name")
    rule: str = Field(description="the rule or check that failed (`dates.end_before_start`, `missing`)")
    message: str


class Problem(BaseModel):
    """A refusal (RFC 9457 problem details); `rule` is what a client branches on."""

    model_config = ConfigDict(extra="allow")  # e.g. required_roles, stream_id, expected_version, actual_version

    type: str = Field(description="urn:clm-platform:problem:<rule>")
    title: str
    status: int = Field(description="the HTTP status again")
    detail: str = Field(description="a sentence for people; do not parse it")
    rule: str = Field(description="the machine-readable reason, `<area>.<what it refuses>`")
    errors: list[FieldError] = Field(description="one entry per field at fault; empty when no one field is")


REFUSALS = {
    401: "No bearer token, or one that does not verify (auth.token_missing, auth.token_invalid)",
    403: "The token holds none of the roles the route admits (auth.role_required; required_roles lists them)",
    404: "The record named in the path does not exist (<record>.not_found)",
    409: "The record's state refuses the command, the id is taken (<record>.already_exists), "
         "or the record moved on (stream.version_conflict)",
    415: "The body is not JSON: send it as application/json (request.unsupported_media_type)",
    422: "The request does not match the schema (request.invalid), or a rule refuses its values",
    503: "A service it depends on is unreachable; retry later",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "required": True, "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}},
}


def not_answering(*statuses: int) -> Callable:
    """Marks an endpoint that cannot answer some of the statuses `refusals_of` would document."""

    def mark(endpoint: Callable) -> Callable:
        endpoint.not_answering = frozenset(statuses)
        return endpoint

    return mark


def _calls(dependant: Dependant) -> list[Callable]:
    calls = []
    for sub in dependant.dependencies:
        calls += [sub.call, *_calls(sub)]
    return calls


def refusals_of(route) -> set[int]:
    """The refusals `route` (an APIRoute or its RouteContext under a prefix) can answer: the rule above."""
    dependant: Dependant = route.dependant
    calls = _calls(dependant)
    # A body the route reads itself (an upload it streams) is declared in openapi_extra.
    has_body = route.body_field is not None or "requestBody" in (getattr(route, "openapi_extra", None) or {})
    statuses = {503} if route.path_format.startswith(API_PREFIX) else set()
    if authenticated in calls:
        statuses.add(401)
    if any(getattr(call, "required_roles", None) for call in calls):
        statuses.add(403)
    if dependant.path_params:
        statuses.add(404)
    if not route.methods <= SAFE_METHODS:
        statuses.add(409)
    if has_body:
        statuses.add(415)
    if has_body or dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params:
        statuses.add(422)
    return statuses - getattr(route.endpoint, "not_answering", frozenset())


def _problem_response(status: int) -> dict:
    response = {
        "description": REFUSALS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def _refs(schema: object) -> set[str]:
    """The component schemas `schema` names directly."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        own = {ref.rsplit("/", 1)[1]} if ref.startswith("#/components/schemas/") else set()
        return own.union(*(_refs(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_refs(v) for v in schema))
    return set()


def _read_by_requests(schema: dict) -> set[str]:
    """The component schemas a request body names, directly or through others."""
    bodies = [op.get("requestBody", {}) for item in schema["paths"].values() for op in item.values()]
    found, todo = set(), _refs(bodies)
    while todo:
        name = todo.pop()
        found.add(name)
        todo |= _refs(schema["components"]["schemas"].get(name, {})) - found
    return found


def _without_nul(schema: object) -> None:
    """Gives every free-text string schema under `schema` the pattern that excludes NUL."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
            schema["pattern"] = NO_NUL_PATTERN
        for value in schema.values():
            _without_nul(value)
    elif isinstance(schema, list):
        for value in schema:
            _without_nul(value)


def _not_null(schema: dict) -> dict:
    """A parameter's schema without FastAPI's `null` alternative for `X | None`: in a path, a query
    or a header there is no null, an optional parameter is one left out (`required: false`)."""
    alternatives = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if "anyOf" not in schema or len(alternatives) == len(schema["anyOf"]):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**alternatives[0], **rest} if len(alternatives) == 1 else {**rest, "anyOf": alternatives}


def document_refusals(schema: dict, routes) -> dict:
    """Adds to `schema` (an OpenAPI document, changed in place) each route's refusals with the Problem body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    for route in iter_route_contexts(routes):
        if not getattr(route, "include_in_schema", False) or getattr(route, "dependant", None) is None:
            continue
        refusals = refusals_of(route)
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation["responses"]
            responses.pop("422", None)  # FastAPI's HTTPValidationError body, which the app never answers
            for status in sorted(refusals):
                responses[str(status)] = _problem_response(status)
    if "#/components/schemas/HTTPValidationError" not in json.dumps(schema["paths"]):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    _without_nul([components[name] for name in sorted(_read_by_requests(schema))])
    for item in schema["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _not_null(parameter["schema"])
                _without_nul(parameter["schema"])
    return schema


def install(app: FastAPI) -> None:
    """Makes `app.openapi()` (and /openapi.json) document every route's refusals."""
    generate = app.openapi
    documented: list[dict] = []

    def openapi() -> dict:
        schema = generate()  # FastAPI's, cached until the routes change
        if not documented or documented[0] is not schema:
            documented[:] = [document_refusals(schema, app.routes)]
        return schema

    app.openapi = openapi
