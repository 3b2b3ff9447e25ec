"""Phase 6 into the shared contract record: activation (blocked with each missing item, or
activated: clm's ContractActivated v2), the order (id, state, the lines fallen out and not yet
fulfilled), the service contract it fulfilled into, and reconciliation (reconciled, or mismatched
with the differences announced since it last was). Each from its own stream, in order."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.activation import ActivationBlocked, ContractActivatedV2
from shared.events.envelope import Envelope
from shared.events.reconciliation import ContractReconciled, ReconciliationMismatch
from shared.events.sales_orders import OrderCreated, OrderFulfilled, OrderLineFallout, OrderLineFulfilled
from services.projection.adapters import contract_records as records
from services.projection.adapters import contracting_records as progress


async def _blocked(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ActivationBlocked = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, activation_state="blocked",
                                  activation_missing=[m.model_dump() for m in event.missing], activation_at=event.at)


async def _activated(uow: UnitOfWork, envelope: Envelope) -> None:
    """The terms themselves come from v1 (contract_projection.py), published just before."""
    event: ContractActivatedV2 = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, activation_state="activated",
                                  activation_missing=[], activation_at=event.activated_at or envelope.time)


async def _order_created(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OrderCreated = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, order_id=event.order_id,
                                  order_state="created", order_fallout={}, order_since=event.at)


async def _fallout(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OrderLineFallout = envelope.event
    current = (await progress.progress_of(uow.conn, event.contract_id) or {}).get("order_fallout") or {}
    line = {"rule": event.rule, "message": event.message, "attempt": event.attempt, "at": event.at.isoformat()}
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time,
                                  order_fallout={**current, str(event.order_line_id): line})


async def _line_fulfilled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OrderLineFulfilled = envelope.event
    current = (await progress.progress_of(uow.conn, event.contract_id) or {}).get("order_fallout") or {}
    current.pop(str(event.order_line_id), None)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, order_fallout=current,
                                  service_contract_id=event.service_contract_id)


async def _fulfilled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OrderFulfilled = envelope.event
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, order_state="fulfilled",
                                  order_since=event.at, order_fallout={}, service_contract_id=event.service_contract_id)


async def _mismatch(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ReconciliationMismatch = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    row = await progress.progress_of(uow.conn, event.contract_id) or {}
    known = row.get("reconciliation_differences") if row.get("reconciliation_state") == "mismatched" else []
    await progress.merge_progress(
        uow.conn, event.contract_id, envelope.time, reconciliation_state="mismatched",
        reconciliation_differences=[*(known or []), event.difference.model_dump()],
        reconciliation_since=row.get("reconciliation_since") if row.get("reconciliation_state") == "mismatched"
        else event.detected_at)


async def _reconciled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractReconciled = envelope.event
    await records.merge_contract(uow.conn, event.contract_id, envelope.time)
    await progress.merge_progress(uow.conn, event.contract_id, envelope.time, reconciliation_state="reconciled",
                                  reconciliation_differences=[], reconciliation_since=event.reconciled_at)


HANDLERS: HandlerTable = {
    ActivationBlocked: _blocked,
    ContractActivatedV2: _activated,
    OrderCreated: _order_created,
    OrderLineFallout: _fallout,
    OrderLineFulfilled: _line_fulfilled,
    OrderFulfilled: _fulfilled,
    ReconciliationMismatch: _mismatch,
    ContractReconciled: _reconciled,
}
