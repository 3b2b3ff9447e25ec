"""Applies clm's drafting and negotiation events (clm.contracts.v1) and its comment threads'
(clm.comments.v1) to the shared contract record: the template, the current version, the negotiated
terms and the open deviations and comment threads. Every write is a merge that gives the same row
in any order (adapters/negotiation_records.py)."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.comments import CommentAdded, CommentThreadReopened, CommentThreadResolved
from shared.events.envelope import Envelope
from shared.events.negotiation import (
    ContractVersionAdded, DeviationCleared, DeviationFlagged, NegotiatedTerms, NegotiatedTermsRecorded,
)
from services.projection.adapters import contract_records as records, negotiation_records as negotiation


def _terms(terms: NegotiatedTerms) -> dict:
    """The terms given; a term left out (none) keeps what an earlier event set."""
    return {name: value for name, value in terms.model_dump().items() if value is not None}


async def _version_added(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractVersionAdded = envelope.event
    fields = dict(
        current_version_number=event.version_number, current_version_sha256=event.document.sha256,
        current_version_author=event.author, current_version_origin=event.origin,
        current_version_added_at=event.added_at, **_terms(event.terms),
    )
    if event.template is not None:  # a generated version: the template it came from
        fields |= dict(template_id=event.template.template_id, template_version=event.template.template_version,
                       template_kind=event.template.kind)
    await records.merge_request(uow.conn, event.contract_id, envelope.time, envelope.stream_version, **fields)


async def _terms_recorded(uow: UnitOfWork, envelope: Envelope) -> None:
    event: NegotiatedTermsRecorded = envelope.event
    if terms := _terms(event.terms):
        await records.merge_request(uow.conn, event.contract_id, envelope.time, envelope.stream_version, **terms)


async def _deviation_flagged(uow: UnitOfWork, envelope: Envelope) -> None:
    event: DeviationFlagged = envelope.event
    await negotiation.flag_deviation(
        uow.conn, event.contract_id, event.deviation_id, envelope.time, version_number=event.version_number,
        kind=event.kind, clause_number=event.clause_number, heading=event.heading, term=event.term,
        before=event.before, after=event.after, flagged_at=event.flagged_at)


async def _deviation_cleared(uow: UnitOfWork, envelope: Envelope) -> None:
    event: DeviationCleared = envelope.event
    await negotiation.clear_deviation(uow.conn, event.contract_id, event.deviation_id, envelope.time,
                                      cleared_in_version=event.version_number, cleared_at=event.cleared_at)


async def _comment_added(uow: UnitOfWork, envelope: Envelope) -> None:
    event: CommentAdded = envelope.event
    await negotiation.merge_thread(uow.conn, event.thread_id, event.contract_id, envelope.time, envelope.stream_version)


async def _thread_status(uow: UnitOfWork, envelope: Envelope) -> None:
    event: CommentThreadResolved | CommentThreadReopened = envelope.event
    await negotiation.merge_thread(uow.conn, event.thread_id, event.contract_id, envelope.time, envelope.stream_version,
                                   is_open=isinstance(event, CommentThreadReopened))


HANDLERS: HandlerTable = {
    ContractVersionAdded: _version_added,
    NegotiatedTermsRecorded: _terms_recorded,
    DeviationFlagged: _deviation_flagged,
    DeviationCleared: _deviation_cleared,
    CommentAdded: _comment_added,
    CommentThreadResolved: _thread_status,
    CommentThreadReopened: _thread_status,
}
