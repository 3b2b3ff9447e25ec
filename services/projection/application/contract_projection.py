"""Applies every service's events to the shared contract record: one row per contract.

Events of different services have no relative order, so each write is a merge that gives the same
row in any order (see adapters/contract_records.py: the state only moves forward). The events that
set one column of many contracts (order sync's ServiceContractRecorded, the scheduler's
ExpiryScheduled, one per activation) are applied as runs, one statement a run."""

from shared.backbone.event_routing import Batched, HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import (
    ContractActivated, ContractAssigned, ContractClassified, ContractDrafted, ContractRequested, ContractRequestEnriched,
    ContractRequestStateChanged,
)
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired, ExpiryScheduled
from shared.events.orders import ServiceContractRecorded
from services.projection.adapters import contract_history as history
from services.projection.adapters import contract_records as records


async def _contract_terms(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractDrafted | ContractActivated = envelope.event
    terms = {"number": event.number, "title": event.title, "contract_model": event.contract_model,
             "start_date": event.start_date, "end_date": event.end_date, "time_zone": event.time_zone}
    if isinstance(event, ContractActivated):  # the terms as drafted, on clm's stream before it: what changed
        await history.record_changes(uow.conn, event.contract_id, envelope, terms, unless_unset="start_date")
    await records.merge_contract(
        uow.conn, event.contract_id, envelope.time,
        state="draft" if isinstance(event, ContractDrafted) else "active", contract_origin="contracting",
        parties=[p.model_dump() for p in event.parties], **terms,
    )


async def _contract_requested(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractRequested = envelope.event
    await records.merge_request(
        uow.conn, event.contract_id, envelope.time, envelope.stream_version,
        number=event.number, title=event.title, parties=[{"role": "customer", "name": event.account.name}],
        request_state=event.state, request_state_since=event.requested_at, origin=event.origin,
        quote_id=event.quote_id, opportunity_id=event.opportunity_id, currency=event.currency,
        deal_size=event.deal.deal_size,
    )


async def _request_enriched(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractRequestEnriched = envelope.event
    changed = {name: value for name, value in (("title", event.title), ("currency", event.currency)) if value is not None}
    if event.account is not None:
        changed["parties"] = [{"role": "customer", "name": event.account.name}]
    if event.deal is not None:  # the deal whole: no deal size once the lines are gone
        changed["deal_size"] = event.deal.deal_size
    await records.merge_request(uow.conn, event.contract_id, envelope.time, envelope.stream_version, **changed)


async def _request_state_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractRequestStateChanged = envelope.event
    await records.merge_request(uow.conn, event.contract_id, envelope.time, envelope.stream_version,
                                request_state=event.to_state, request_state_since=event.at)


async def _contract_classified(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractClassified = envelope.event
    await records.merge_request(uow.conn, event.contract_id, envelope.time, envelope.stream_version,
                                classification=event.classification)


async def _contract_assigned(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractAssigned = envelope.event
    await records.merge_request(uow.conn, event.contract_id, envelope.time, envelope.stream_version,
                                queue=event.queue, assignee=event.assignee, assignee_role=event.assignee_role)


async def _service_contracts_recorded(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    await records.merge_contract_field(
        uow.conn, "service_contract_number", [(e.event.contract_id, e.event.number, e.time) for e in envelopes])


async def _expiries_scheduled(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    await records.merge_contract_field(uow.conn, "expires_at", [(e.event.contract_id, e.event.due_at, e.time) for e in envelopes])


async def _contract_expired(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractExpired = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, state="expired", expired_at=event.expired_at)


HANDLERS: HandlerTable = {
    ContractRequested: _contract_requested,
    ContractRequestEnriched: _request_enriched,
    ContractRequestStateChanged: _request_state_changed,
    ContractClassified: _contract_classified,
    ContractAssigned: _contract_assigned,
    ContractDrafted: _contract_terms,
    ContractActivated: _contract_terms,
    ServiceContractRecorded: Batched(_service_contracts_recorded),
    ExpiryScheduled: Batched(_expiries_scheduled),
    ContractExpired: _contract_expired,
}
