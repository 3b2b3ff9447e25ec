"""REST resources of comment threads (phase 3): a thread starts on a contract's version, or a
clause of it (`POST /contracts/{id}/comments`), and lives at /comment-threads/{thread_id}: replies,
resolution, reopening. Answers carry the thread's version as ETag; resolution and reopening take
`If-Match` to refuse with 409 if the thread moved on meanwhile."""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Cursor, IfMatch, Limit, Page, answer_created, expected_version, page_of, replayed, with_version
from services.clm.application import comments as use_cases
from services.clm.domain.comments import CommentThread

router = APIRouter(prefix="/contracts", tags=["comments"])
threads_router = APIRouter(prefix="/comment-threads", tags=["comments"])

# RACI phase 3 (docs/design/contracting.md, "Roles"): everyone responsible, accountable or consulted.
may_comment = require_roles(Role.SALES, Role.SALES_OPS, Role.LEGAL_COUNSEL, Role.CONTRACT_MANAGER, Role.FINANCE)

ThreadStatus = Literal["open", "resolved"]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class NewThread(BaseModel):
    thread_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    version_number: int = Field(ge=1, le=100_000, description="the contract's version commented on")
    clause_number: str | None = Field(None, min_length=1, max_length=32, examples=["7.2"],
                                      description="the clause; none for the whole version")
    text: Text


class NewReply(BaseModel):
    comment_id: UUID | None = Field(None, description="Client-chosen id makes retries idempotent")
    reply_to: UUID = Field(description="the comment of this thread it answers")
    text: Text


class Resolution(BaseModel):
    note: str = Field("", max_length=2_000)
    expected_version: int | None = Field(None, description="Refuse with 409 if the thread moved on")


class Reopening(BaseModel):
    expected_version: int | None = Field(None, description="Refuse with 409 if the thread moved on")


class CommentView(BaseModel):
    comment_id: UUID
    reply_to: UUID | None
    text: str
    author: str
    at: dt.datetime


class ThreadView(BaseModel):
    thread_id: UUID
    contract_id: UUID
    version_number: int
    clause_number: str | None
    status: ThreadStatus
    started_by: str
    started_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    resolution_note: str | None
    comments: list[CommentView]
    version: int

    @classmethod
    def of(cls, t: CommentThread) -> "ThreadView":
        first, resolved = t.comments[0], t.resolved
        return cls(
            thread_id=t.thread_id, contract_id=t.contract_id, version_number=t.version_number,
            clause_number=t.clause_number, status="open" if t.is_open else "resolved", started_by=first.author,
            started_at=first.at, resolved_by=resolved.by if resolved else None,
            resolved_at=resolved.at if resolved else None, resolution_note=resolved.note if resolved else None,
            comments=[CommentView(**c.model_dump()) for c in t.comments], version=t.version,
        )


class ReplyView(ThreadView):
    comment_id: UUID = Field(description="the reply's id")


def _answer(response: Response, thread: CommentThread) -> ThreadView:
    with_version(response, thread.version)
    return ThreadView.of(thread)


@router.post("/{contract_id}/comments", status_code=status.HTTP_201_CREATED, response_model=ThreadView,
             responses=replayed(ThreadView))
async def start_thread(
    contract_id: UUID, body: NewThread, response: Response,
    principal: Annotated[Principal, Depends(may_comment)], ctx: Annotated[ServiceContext, Depends(context)],
) -> ThreadView:
    """Starts a thread with its first comment, on a version of the contract or one clause of it."""
    thread_id = body.thread_id or uuid4()
    thread, is_new = await use_cases.start_thread(
        ctx.uow(principal), contract_id, thread_id, version_number=body.version_number,
        clause_number=body.clause_number, text=body.text, author=principal.subject, at=ctx.clock.now())
    answer_created(response, f"/api/v1/comment-threads/{thread_id}", is_new)
    return _answer(response, thread)


@router.get("/{contract_id}/comments", response_model=Page[ThreadView], dependencies=[Depends(any_role)])
async def list_threads(
    contract_id: UUID, ctx: Annotated[ServiceContext, Depends(context)],
    status: ThreadStatus | None = None,
    version_number: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    clause_number: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict:
    """The contract's threads with their comments, by thread id."""
    rows = await use_cases.list_threads(ctx.uow(), contract_id, after=cursor, limit=limit, status=status,
                                        version_number=version_number, clause_number=clause_number)
    return page_of(rows, limit, key=lambda r: r["thread_id"])


@threads_router.post("/{thread_id}/replies", status_code=status.HTTP_201_CREATED, response_model=ReplyView,
                     responses=replayed(ReplyView))
async def reply(
    thread_id: UUID, body: NewReply, response: Response,
    principal: Annotated[Principal, Depends(may_comment)], ctx: Annotated[ServiceContext, Depends(context)],
) -> ReplyView:
    """A reply to a comment of the thread (an open one: reopen a resolved thread to reply)."""
    thread, comment_id, is_new = await use_cases.reply(
        ctx.uow(principal), thread_id, reply_to=body.reply_to, text=body.text, author=principal.subject,
        at=ctx.clock.now(), comment_id=body.comment_id)
    answer_created(response, f"/api/v1/comment-threads/{thread_id}", is_new)
    return ReplyView(**_answer(response, thread).model_dump(), comment_id=comment_id)


@threads_router.post("/{thread_id}/resolution", response_model=ThreadView)
async def resolve(
    thread_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_comment)], ctx: Annotated[ServiceContext, Depends(context)],
    body: Resolution | None = None, if_match: IfMatch = None,
) -> ThreadView:
    """open -> resolved, with an optional note."""
    body = body or Resolution()
    at = ctx.clock.now()
    thread = await use_cases.change_thread(
        ctx.uow(principal), thread_id, lambda t: t.resolve(by=principal.subject, at=at, note=body.note),
        expected_version(if_match, body.expected_version))
    return _answer(response, thread)


@threads_router.post("/{thread_id}/reopening", response_model=ThreadView)
async def reopen(
    thread_id: UUID, response: Response,
    principal: Annotated[Principal, Depends(may_comment)], ctx: Annotated[ServiceContext, Depends(context)],
    body: Reopening | None = None, if_match: IfMatch = None,
) -> ThreadView:
    """resolved -> open."""
    at = ctx.clock.now()
    thread = await use_cases.change_thread(
        ctx.uow(principal), thread_id, lambda t: t.reopen(by=principal.subject, at=at),
        expected_version(if_match, body.expected_version if body else None))
    return _answer(response, thread)


@threads_router.get("/{thread_id}", response_model=ThreadView, dependencies=[Depends(any_role)])
async def get_thread(thread_id: UUID, response: Response,
                     ctx: Annotated[ServiceContext, Depends(context)]) -> ThreadView:
    return _answer(response, await use_cases.get_thread(ctx.uow(), thread_id))
