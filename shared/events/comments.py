"""Events of comments on a contract under negotiation (services/clm, phase 3).

A thread starts with a comment on a version or on one clause of it; replies join it; it is
resolved (and may be reopened). Threads travel on `clm.comments.v1` keyed by `thread_id`, apart
from the contract's stream so that commenting never conflicts with adding a version.
"""

import datetime as dt
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class _CommentEvent(Event):
    topic = topics.CLM_COMMENTS
    source = "/services/clm"
    key_field = "thread_id"
    thread_id: UUID
    contract_id: UUID


class CommentAdded(_CommentEvent):
    """A comment: the first of a new thread (on a version, or a clause of it), or a reply in one."""

    event_type = "CommentAdded"
    comment_id: UUID
    version_number: int = Field(ge=1)
    clause_number: str | None = Field(None, description="the clause it is about; none for the whole version")
    reply_to: UUID | None = Field(None, description="the comment it answers; none for a thread's first")
    text: str = Field(min_length=1, max_length=10_000)
    author: str
    at: dt.datetime


class CommentThreadResolved(_CommentEvent):
    """The thread was resolved: it no longer counts as open."""

    event_type = "CommentThreadResolved"
    by: str
    at: dt.datetime
    note: str = ""


class CommentThreadReopened(_CommentEvent):
    """A resolved thread was reopened: it counts as open again."""

    event_type = "CommentThreadReopened"
    by: str
    at: dt.datetime
