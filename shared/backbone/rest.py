"""The REST idioms every router uses, written once.

- Optimistic concurrency: answers carry the aggregate's version as `ETag: "<version>"`; a client
  sends it back as `If-Match` (or `expected_version` in a body) and the unit of work refuses the
  command with 409 `stream.version_conflict` if the aggregate moved on (UnitOfWork.require).
- Idempotent creation: a create with a client-chosen id answers 201 the first time and 200 with
  the same record (and the same Location) when retried.
- Reads: a record or 404 (`found`); lists page by an opaque cursor, the last key of the page, so
  a page never shifts when records are added before it (`Page`, `page_of`).
- Bodies are JSON: a route that takes a body refuses any other media type with 415, in every
  service alike (`json_body`, a dependency of every route), and a body that cannot be decoded is
  a 422 like any other body that does not match the schema (`unreadable_body`).
"""

from email.message import Message
from typing import Annotated, Any, Callable, Generic, Sequence, TypeVar
from uuid import UUID

from fastapi import Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.backbone.errors import DomainError, NotFound

T = TypeVar("T")
K = TypeVar("K")

IfMatch = Annotated[str | None, Header(description='Expected version, e.g. "3" (the ETag of the last answer); 409 if it moved on')]
Cursor = Annotated[UUID | None, Query(description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500, description="Most items on one page")]


def expected_version(if_match: str | None, in_body: int | None = None) -> int | None:
    """The version a client expects, from the body or from If-Match ("3", W/"3" or 3); none means
    "whatever it is". Anything else in If-Match is refused rather than ignored."""
    if in_body is not None:
        return in_body
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError("request.if_match_invalid", f"If-Match must be a version number, not {if_match!r}", field="If-Match")
    return int(value)


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
