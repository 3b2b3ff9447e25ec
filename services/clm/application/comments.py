"""Use cases of comment threads (phase 3). Each runs in one unit of work: load, decide, append, and
the query table of threads (adapters/comment_index.py, `uow.views.comments`) in the same commit.

A thread reads its contract without guarding it: a version added meanwhile must not refuse the
comment, nor the comment the version (docs/design/contracting.md)."""

import datetime as dt
from typing import Callable, Protocol
from uuid import UUID, uuid4

from shared.backbone.errors import AlreadyExists, NotFound
from shared.backbone.unit_of_work import UnitOfWork, created_once
from services.clm.domain.comments import CommentThread, check_version
from services.clm.domain.contract import Contract

THREAD = "comment_thread"


class CommentIndex(Protocol):
    async def save_thread(self, thread: CommentThread) -> None: ...

    async def threads(self, contract_id: UUID, *, after: UUID | None, limit: int, **filters) -> list[dict]: ...


def known_versions(contract: Contract) -> list[int]:
    """The contract's version numbers (none before it is drafted: nothing to comment on yet)."""
    return [v.version_number for v in contract.versions]


async def commit(uow: UnitOfWork) -> None:
    index: CommentIndex = uow.views.comments
    for aggregate in uow.changed():
        if isinstance(aggregate, CommentThread):
            await index.save_thread(aggregate)
    await uow.commit()


@created_once
async def start_thread(uow: UnitOfWork, contract_id: UUID, thread_id: UUID, *, version_number: int,
                       clause_number: str | None, text: str, author: str,
                       at: dt.datetime) -> tuple[CommentThread, bool]:
    """Returns (thread, created): the same start retried with its thread id is harmless."""
    async with uow:
        contract = await _require_contract(uow, contract_id)
        check_version(version_number, known_versions(contract))
        started = CommentThread.start(thread_id, contract_id, comment_id=uuid4(), version_number=version_number,
                                      clause_number=clause_number, text=text, author=author, at=at)
        existing = await uow.get(CommentThread, str(thread_id))
        if existing is not None:
            if existing.same_start(started):
                return existing, False
            raise AlreadyExists(THREAD, thread_id, field="thread_id")
        uow.add(started)
        await commit(uow)
        return started, True


async def reply(uow: UnitOfWork, thread_id: UUID, *, reply_to: UUID, text: str, author: str, at: dt.datetime,
                comment_id: UUID | None = None) -> tuple[CommentThread, UUID, bool]:
    """Returns (thread, the reply's id, created): a reply retried with its comment id is harmless."""
    comment_id = comment_id or uuid4()
    async with uow:
        thread = await uow.require(CommentThread, str(thread_id), THREAD)
        if not thread.reply(comment_id=comment_id, reply_to=reply_to, text=text, author=author, at=at):
            return thread, comment_id, False
        await commit(uow)
        return thread, comment_id, True


async def change_thread(uow: UnitOfWork, thread_id: UUID, command: Callable[[CommentThread], None],
                        expected_version: int | None = None) -> CommentThread:
    """Resolves or reopens the thread, on the version the client read if it says one."""
    async with uow:
        thread = await uow.require(CommentThread, str(thread_id), THREAD, expected_version)
        command(thread)
        await commit(uow)
        return thread


async def get_thread(uow: UnitOfWork, thread_id: UUID) -> CommentThread:
    async with uow:
        return await uow.require(CommentThread, str(thread_id), THREAD)


async def list_threads(uow: UnitOfWork, contract_id: UUID, *, after: UUID | None, limit: int,
                       **filters) -> list[dict]:
    async with uow:
        await _require_contract(uow, contract_id)
        index: CommentIndex = uow.views.comments
        return await index.threads(contract_id, after=after, limit=limit, **filters)


async def _require_contract(uow: UnitOfWork, contract_id: UUID) -> Contract:
    """A requested or drafted contract of clm's, or NotFound."""
    contract = await uow.get(Contract, str(contract_id))
    if contract is None or (contract.requested is None and contract.state is None):
        raise NotFound("contract", contract_id)
    return contract
