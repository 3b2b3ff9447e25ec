"""The CommentThread aggregate (stream type `comment_thread`): comments on a version of a contract,
or on one clause of it, with replies; resolved and reopened. Its own stream per thread, so that
commenting never conflicts with a new version of the contract (docs/design/contracting.md)."""

import datetime as dt
from typing import Iterable
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState, invalid
from shared.events.comments import CommentAdded, CommentThreadReopened, CommentThreadResolved
from services.clm.domain import rules


def check_version(version_number: int, known: Iterable[int]) -> None:
    """`known`: the contract's version numbers; a comment is on one of them."""
    if version_number < 1:
        raise invalid(rules.COMMENT_VERSION_UNKNOWN, "versions are numbered from 1", field="version_number")
    if version_number not in set(known):
        raise invalid(rules.COMMENT_VERSION_UNKNOWN, f"the contract has no version {version_number}",
                      field="version_number")


def _text(text: str) -> str:
    if not text.strip():
        raise invalid(rules.COMMENT_TEXT_REQUIRED, "a comment needs text", field="text")
    return text


class CommentThread(Aggregate):
    stream_type = "comment_thread"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.contract_id: UUID | None = None
        self.version_number: int | None = None
        self.clause_number: str | None = None
        self.comments: list[CommentAdded] = []
        self.resolved: CommentThreadResolved | None = None  # the resolution in force; none while open
        self.reopened: CommentThreadReopened | None = None  # the last reopening, if any

    @property
    def thread_id(self) -> UUID:
        return UUID(self.id)

    @property
    def is_open(self) -> bool:
        return self.resolved is None

    @classmethod
    def start(cls, thread_id: UUID, contract_id: UUID, *, comment_id: UUID, version_number: int,
              clause_number: str | None, text: str, author: str, at: dt.datetime) -> "CommentThread":
        thread = cls(str(thread_id))
        thread.record(CommentAdded(
            thread_id=thread_id, contract_id=contract_id, comment_id=comment_id, version_number=version_number,
            clause_number=clause_number or None, text=_text(text), author=author, at=at))
        return thread

    def same_start(self, other: "CommentThread") -> bool:
        """Whether `other` starts this thread as it was started (a retried POST with its thread id)."""
        def asked(t: "CommentThread") -> tuple:
            first = t.comments[0]
            return first.contract_id, first.version_number, first.clause_number, first.text, first.author
        return asked(self) == asked(other)

    def reply(self, *, comment_id: UUID, reply_to: UUID, text: str, author: str, at: dt.datetime) -> bool:
        """Adds a reply; False (nothing recorded) if `comment_id` is already this same reply (a retry)."""
        existing = self.comment(comment_id)
        if existing is not None:
            if (existing.reply_to, existing.text, existing.author) == (reply_to, text, author):
                return False
            raise ConflictingState(rules.COMMENT_ID_TAKEN, f"comment {comment_id} exists with other content",
                                   field="comment_id")
        if self.comment(reply_to) is None:
            raise invalid(rules.COMMENT_REPLY_TO_UNKNOWN, f"comment {reply_to} is not in thread {self.id}",
                          field="reply_to")
        if not self.is_open:
            raise ConflictingState(rules.COMMENT_REPLY_ONLY_WHEN_OPEN, "the thread is resolved: reopen it to reply",
                                   field="status")
        self.record(CommentAdded(
            thread_id=self.thread_id, contract_id=self.contract_id, comment_id=comment_id,
            version_number=self.version_number, clause_number=self.clause_number, reply_to=reply_to,
            text=_text(text), author=author, at=at))
        return True

    def resolve(self, *, by: str, at: dt.datetime, note: str = "") -> None:
        if not self.is_open:
            raise ConflictingState(rules.COMMENT_RESOLVE_ONLY_WHEN_OPEN, "the thread is resolved already",
                                   field="status")
        self.record(CommentThreadResolved(thread_id=self.thread_id, contract_id=self.contract_id, by=by, at=at,
                                          note=note.strip()))

    def reopen(self, *, by: str, at: dt.datetime) -> None:
        if self.is_open:
            raise ConflictingState(rules.COMMENT_REOPEN_ONLY_WHEN_RESOLVED, "only a resolved thread is reopened",
                                   field="status")
        self.record(CommentThreadReopened(thread_id=self.thread_id, contract_id=self.contract_id, by=by, at=at))

    def comment(self, comment_id: UUID) -> CommentAdded | None:
        return next((c for c in self.comments if c.comment_id == comment_id), None)

    @applies
    def _on_comment_added(self, event: CommentAdded) -> None:
        if not self.comments:
            self.contract_id, self.version_number, self.clause_number = (
                event.contract_id, event.version_number, event.clause_number)
        self.comments.append(event)

    @applies
    def _on_resolved(self, event: CommentThreadResolved) -> None:
        self.resolved = event

    @applies
    def _on_reopened(self, event: CommentThreadReopened) -> None:
        self.resolved, self.reopened = None, event
