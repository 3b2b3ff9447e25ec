"""The REST idioms every router uses, written once.

- Optimistic concurrency: answers carry the aggregate's version as `ETag: "<version>"`; a client
  sends it back as `If-Match` (or `expected_version` in a body) and the unit of work refuses the
  command with 409 `stream.version_conflict` if the aggregate moved on (UnitOfWork.require).
- Idempotent creation: a create with a client-chosen id answers 201 the first time and 200 with
  the same record (and the same Location) when retried.
- Reads: a record or 404 (`found`); lists page by an opaque cursor, the last key of the page, so
  a page never shifts when records are added before it (`Page`, `page_of`).
- Inputs are read as documented: a date is `YYYY-MM-DD` (`Date`), an instant ISO 8601 with its
  offset (`Instant`), an amount digits or a number (`Amount`), not whatever else pydantic would coerce (0 as 1970-01-01, "1e3" as 1000).
- A route reads what it declares: an unknown query parameter is refused rather than ignored, and
  so is text with a NUL character, which PostgreSQL cannot store (`declared_input`; the OpenAPI
  document says both).
- Bodies are JSON: a route that takes a body refuses any other media type with 415, in every
  service alike (`json_body`, a dependency of every route), and a body that cannot be decoded is
  a 422 like any other body that does not match the schema (`unreadable_body`).
"""

import datetime as dt
import re
from decimal import Decimal
from email.message import Message
from typing import Annotated, Any, Callable, Generic, Sequence, TypeVar
from uuid import UUID

from fastapi import Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.backbone.errors import DomainError, NotFound

T = TypeVar("T")
K = TypeVar("K")

# "3", 3, W/"3" or * (any version): what expected_version reads; anything else is refused with its own rule.
IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"?[0-9]+"?)[ \t]*$'
IfMatch = Annotated[str | None, Header(
    description='Expected version, e.g. "3" (the ETag of the last answer); 409 if it moved on',
    json_schema_extra={"pattern": IF_MATCH_PATTERN},
)]
Cursor = Annotated[UUID | None, Query(description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500, description="Most items on one page")]


ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# RFC 3339 date-time with its offset: what `Instant` reads.
ISO_INSTANT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"


def _matching(pattern: str, what: str, types: tuple[type, ...]) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and re.fullmatch(pattern, value) or isinstance(value, types) and not isinstance(value, bool):
            return value
        raise ValueError(f"{what}, not {value!r}")

    return BeforeValidator(check)


Date = Annotated[dt.date, _matching(ISO_DATE_PATTERN, "a date as YYYY-MM-DD", (dt.date,))]


def _json_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"a whole number, not {value!r}")
    return value


def whole_number(ge: int, le: int) -> type:
    """A JSON integer from `ge` to `le` (2820 or 2820.0, as JSON Schema counts them), never true/false
    or "2820", which pydantic's lax int would take. The bounds sit before the check so the schema
    shows them as minimum / maximum."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_number)]
Instant = Annotated[
    AwareDatetime, _matching(ISO_INSTANT_PATTERN, "an instant as ISO 8601 with its offset, e.g. 2027-03-02T08:00:00+01:00",
                             (dt.datetime,)),
]
Amount = Annotated[
    Decimal, Field(ge=0), _matching(DECIMAL_PATTERN, "an amount as digits, e.g. 9600.00", (Decimal, int, float)),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DECIMAL_PATTERN}]}),
]


def expected_version(if_match: str | None, in_body: int | None = None) -> int | None:
    """The version a client expects, from the body or from If-Match ("3", W/"3" or 3); none means
    "whatever it is". Anything else in If-Match is refused rather than ignored."""
    if in_body is not None:
        return in_body
    if if_match is None:
        return None
    if not re.fullmatch(IF_MATCH_PATTERN, if_match):
        raise DomainError("request.if_match_invalid", f"If-Match must be a version number, not {if_match!r}", field="If-Match")
    value = if_match.strip(" \t")
    return None if value == "*" else int(value.removeprefix("W/").strip('"'))


def with_version(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def replayed(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a create with a client-chosen id, which `answer_created` answers 200 when retried."""
    return {200: {"model": model, "description": "A retry of the same create (same id, same terms): the record as "
                                                 "it is, with the same Location"}}


def answer_created(response: Response, location: str, is_new: bool) -> None:
    """201 for a new record, 200 for a create retried with the same id; Location either way."""
    response.status_code = status.HTTP_201_CREATED if is_new else status.HTTP_200_OK
    response.headers["Location"] = location


def found(record: T | None, what: str, ident: object) -> T:
    if record is None:
        raise NotFound(what, ident)
    return record


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: UUID | None = Field(description="Pass as `cursor` for the next page; none on the last page")


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], K]) -> dict:
    """A page of at most `limit` rows, ordered by `key`; fetch `limit` rows: a full page has a cursor."""
    return {"items": list(rows), "next_cursor": key(rows[-1]) if len(rows) == limit else None}


UNSUPPORTED_MEDIA_TYPE = "request.unsupported_media_type"


def is_json(content_type: str | None) -> bool:
    """application/json or application/<anything>+json, with any parameters."""
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def json_body(request: Request) -> None:
    """Dependency of every route (create_app): a body sent to a route that takes one must be JSON,
    else 415 `request.unsupported_media_type`. (Without it, FastAPI takes a body without a content
    type as bytes and refuses it as invalid, or parses it, depending on the route.)"""
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None or not await request.body():
        return
    content_type = request.headers.get("content-type")
    if not is_json(content_type):
        raise HTTPException(415, detail={
            "rule": UNSUPPORTED_MEDIA_TYPE,
            "message": f"the body must be application/json, not {content_type or 'sent without a content type'}",
        })


def unreadable_body(exc: StarletteHTTPException) -> RequestValidationError | None:
    """FastAPI answers 400 when it cannot decode a JSON body (not UTF-8, nested too deep), raised
    from the decoding error; that is the same invalid request as a body that is not JSON at all."""
    if exc.status_code != 400 or exc.__cause__ is None:
        return None
    return RequestValidationError([{
        "type": "json_invalid", "loc": ("body",), "msg": f"the body is not UTF-8 encoded JSON: {exc.__cause__}",
    }])


NUL = "\x00"
NO_NUL_PATTERN = "^[^\\x00]*$"  # what the OpenAPI document gives the free text a route reads


def _nul_fields(value: object, path: tuple) -> list[tuple]:
    """Where a validated value (models, lists, dicts, text) holds text with a NUL character."""
    if isinstance(value, str):
        return [path] if NUL in value else []
    if isinstance(value, BaseModel):
        return [p for name in type(value).model_fields for p in _nul_fields(getattr(value, name), (*path, name))]
    if isinstance(value, dict):
        found = [(*path, key) for key in value if isinstance(key, str) and NUL in key]
        for key, item in value.items():
            found += _nul_fields(item, (*path, key))
        return found
    if isinstance(value, (list, tuple)):
        return [p for i, item in enumerate(value) for p in _nul_fields(item, (*path, i))]
    return []


def _query_names(dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared_queries(route) -> frozenset[str]:
    """A route's query parameters, found once per route (kept on it) rather than walked on every request."""
    declared = getattr(route, "_declared_queries", None)
    if declared is None:
        declared = route._declared_queries = frozenset(_query_names(route.dependant))
    return declared


async def declared_input(request: Request) -> None:
    """Dependency of every route (create_app), after `json_body`: 422 request.invalid for
    - a query parameter the route does not declare (a misspelt filter would otherwise be ignored,
      and a list answer the unfiltered list), and
    - text with a NUL character in what the route reads (path, query, the body's fields; not keys
      it ignores), which PostgreSQL cannot store."""
    route = request.scope.get("route")
    if getattr(route, "dependant", None) is None:
        return
    declared = _declared_queries(route)
    nul = "text cannot hold the NUL character (\\u0000)"
    errors = [{"type": "extra_forbidden", "loc": ("query", name), "msg": "the route takes no such query parameter"}
              for name in dict.fromkeys(request.query_params) if name not in declared]
    errors += [{"type": "string_pattern_mismatch", "loc": ("path", name), "msg": nul}
               for name, value in request.path_params.items() if NUL in str(value)]
    errors += [{"type": "string_pattern_mismatch", "loc": ("query", name), "msg": nul}
               for name, value in request.query_params.multi_items() if name in declared and NUL in value]
    body_field = getattr(route, "body_field", None)
    # Only a declared body is read here: a route that streams its own (an upload) keeps its stream.
    raw = await request.body() if body_field is not None else b""
    # JSON can only carry NUL escaped, so only a body holding the escape is validated here (again).
    if body_field is not None and b"\\u0000" in raw and is_json(request.headers.get("content-type")):
        body, invalid = body_field.validate(await request.json(), {}, loc=("body",))
        if not invalid:  # else FastAPI refuses it as it is
            errors += [{"type": "string_pattern_mismatch", "loc": loc, "msg": nul} for loc in _nul_fields(body, ("body",))]
    if errors:
        raise RequestValidationError(errors)
