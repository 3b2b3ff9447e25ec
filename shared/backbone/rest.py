"""The REST idioms every router uses, written once.

- Optimistic concurrency: answers carry the aggregate's version as `ETag: "<version>"`; a client
  sends it back as `If-Match` (or `expected_version` in a body) and the unit of work refuses the
  command with 409 `stream.version_conflict` if the aggregate moved on (UnitOfWork.require).
- Idempotent creation: a create with a client-chosen id answers 201 the first time and 200 with
  the same record (and the same Location) when retried.
- Reads: a record or 404 (`found`); lists page by an opaque cursor, the last key of the page, so
  a page never shifts when records are added before it (`Page`, `page_of`).
"""

from typing import Annotated, Any, Callable, Generic, Sequence, TypeVar
from uuid import UUID

from fastapi import Header, Query, Response, status
from pydantic import BaseModel, Field

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
