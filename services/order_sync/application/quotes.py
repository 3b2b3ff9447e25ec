"""Use cases of quotes. Each runs in one unit of work: the quote's events and its row of the quote
index commit together (application/indexing.py)."""

from dataclasses import replace
from uuid import UUID

from shared.backbone.clock import Clock
from shared.backbone.errors import AlreadyExists
from shared.backbone.unit_of_work import UnitOfWork, created_once
from shared.events.envelope import Envelope
from shared.events.lifecycle import QuoteValidityEnded
from services.order_sync.application.indexing import commit, indexes, save_indexes
from services.order_sync.domain.quote import Quote, QuoteEntry, QuoteState, priced

QUOTE = "quote"


@created_once
async def draft_quote(uow: UnitOfWork, clock: Clock, quote_id: UUID, entry: QuoteEntry) -> tuple[Quote, bool]:
    """Idempotent by quote id: the same terms again return the quote as it is now (even if revised
    or approved since); other terms under that id are refused."""
    async with uow:
        existing = await uow.get(Quote, str(quote_id))
        if existing is not None:
            if existing.drafted_terms != priced(entry):
                raise AlreadyExists(QUOTE, quote_id, "quote_id")
            return existing, False
        quote = Quote.draft(quote_id, entry, clock.now())
        uow.add(quote)
        await commit(uow)
        return quote, True


async def revise_quote(uow: UnitOfWork, clock: Clock, quote_id: UUID, entry: QuoteEntry,
                       expected_version: int | None) -> Quote:
    """An entry without a number keeps the quote's."""
    async with uow:
        quote = await uow.require(Quote, str(quote_id), QUOTE, expected_version)
        quote.revise(replace(entry, number=entry.number or quote.terms.number), clock.now())
        await commit(uow)
        return quote


async def approve_quote(uow: UnitOfWork, clock: Clock, quote_id: UUID, by: str, expected_version: int | None) -> Quote:
    async with uow:
        quote = await uow.require(Quote, str(quote_id), QUOTE, expected_version)
        quote.approve(clock.now(), by)
        await commit(uow)
        return quote


async def reject_quote(uow: UnitOfWork, clock: Clock, quote_id: UUID, reason: str, expected_version: int | None) -> Quote:
    async with uow:
        quote = await uow.require(Quote, str(quote_id), QUOTE, expected_version)
        quote.reject(clock.now(), reason)
        await commit(uow)
        return quote


async def get_quote(uow: UnitOfWork, quote_id: UUID) -> Quote:
    async with uow:
        return await uow.require(Quote, str(quote_id), QUOTE)


async def list_quotes(
    uow: UnitOfWork, *, state: QuoteState | None, account_id: str | None, opportunity_id: str | None,
    after: UUID | None, limit: int,
) -> list:
    async with uow:
        return await indexes(uow).quotes(state=state, account_id=account_id, opportunity_id=opportunity_id,
                                         after=after, limit=limit)


async def end_validity(uow: UnitOfWork, envelope: Envelope) -> None:
    """QuoteValidityEnded, in the consumer's unit of work: the quote expires if still Draft."""
    event: QuoteValidityEnded = envelope.event
    quote = await uow.get(Quote, str(event.quote_id))
    if quote is None:
        return
    quote.expire(event.valid_until, event.ended_at)
    await save_indexes(uow)
