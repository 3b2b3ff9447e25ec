"""Use cases of reconciliation: what was signed (ContractActivated v2, kept in the reconciliation
table) against the service contract of the same id. An executed contract (ContractExecuted) is
listed as pending until its v2 comes. A check runs after each event that can change
either side (the `order_sync-reconciliation` consumer: v2, the service contract's own events, the
order's), periodically for every contract (`run_reconciliation`), and on request (POST .../check).

A check locks the contract's row, compares, records a ReconciliationMismatch for each difference the
previous check did not find and a ContractReconciled when they agree again, and writes the row, all
in one transaction: two checks of one contract (two replicas, the loop and a request) run one after
the other and announce nothing twice."""

import asyncio
import datetime as dt
from uuid import UUID

from shared.backbone.errors import NotFound
from shared.backbone.logging import get_logger
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.activation import ContractActivatedV2
from shared.events.envelope import Envelope
from shared.events.orders import _ServiceContractEvent
from shared.events.reconciliation import Difference
from shared.events.sales_orders import OrderCreated, OrderFulfilled, OrderLineFallout, OrderLineFulfilled
from shared.events.signature import ContractExecuted
from services.order_sync.adapters import reconciliations as table
from services.order_sync.domain.reconciliation import PENDING, RECONCILED, Reconciliation, compare, stream_id
from services.order_sync.domain.service_contract import ServiceContract

log = get_logger(__name__)
RECORD = "reconciliation"


def _pending(row, service: ServiceContract | None) -> bool:
    """Nothing to compare yet: no service contract, or its order is still being fulfilled."""
    return service is None or row["order_state"] == "created"


async def check_in(uow: UnitOfWork, contract_id: UUID, at: dt.datetime) -> dict:
    """The check inside an open unit of work (the caller commits); the row as it is after it."""
    row = await table.locked(uow.conn, contract_id)
    if not table.known(row):
        raise NotFound(RECORD, contract_id)
    service = await uow.get(ServiceContract, str(contract_id))
    previous = [Difference.model_validate(d) for d in row["differences"]]
    if not row["signed"] or _pending(row, service):
        values = {"state": PENDING.value, "differences": [], "checked_at": at}
    else:
        signed = ContractActivatedV2.model_validate(row["signed"])
        fulfilled = {UUID(k): UUID(v) for k, v in row["fulfilled_lines"].items()}
        differences = compare(signed, service, fulfilled)
        reconciliation = await uow.get(Reconciliation, stream_id(contract_id))
        if reconciliation is None:
            reconciliation = Reconciliation.of(contract_id)
            uow.add(reconciliation)
        state = reconciliation.checked(differences, previous, at)
        values = {"state": state.value, "differences": [d.model_dump(mode="json") for d in differences], "checked_at": at}
        if state == RECONCILED and row["state"] != RECONCILED:
            values["reconciled_at"] = at
    await table.update(uow.conn, contract_id, **values)
    return {**row, **values}


async def check(uow: UnitOfWork, contract_id: UUID, at: dt.datetime) -> dict:
    async with uow:
        result = await check_in(uow, contract_id, at)
        await uow.commit()
        return result


async def get_reconciliation(uow: UnitOfWork, contract_id: UUID) -> dict:
    async with uow:
        row = await table.get(uow.conn, contract_id)
        if not table.known(row):
            raise NotFound(RECORD, contract_id)
        return dict(row)


async def list_reconciliations(uow: UnitOfWork, *, state: str | None, after: UUID | None, limit: int) -> list:
    async with uow:
        return await table.page(uow.conn, state=state, after=after, limit=limit)


# -- the consumer ---------------------------------------------------------------------------------

async def _check_if_signed(uow: UnitOfWork, contract_id: UUID, at: dt.datetime) -> None:
    row = await table.get(uow.conn, contract_id)
    if row is not None and row["signed"]:
        await check_in(uow, contract_id, at)


async def _signed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractActivatedV2 = envelope.event
    customer = next((p.name for p in event.parties if p.role == "customer"), None)
    await table.record_signed(uow.conn, event.contract_id, event.number, customer, event.model_dump(mode="json"))
    await check_in(uow, event.contract_id, envelope.time)


async def _executed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractExecuted = envelope.event
    await table.record_executed(uow.conn, event.contract_id, event.executed_at)


async def _service_contract_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    await _check_if_signed(uow, envelope.event.contract_id, envelope.time)


async def _order_created(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OrderCreated = envelope.event
    await table.ensure_order(uow.conn, event.contract_id)
    row = await table.locked(uow.conn, event.contract_id)
    order_lines = {**row["order_lines"], **{str(line.order_line_id): str(line.contract_line_id) for line in event.lines}}
    await table.update(uow.conn, event.contract_id, order_lines=order_lines,
                       order_state=row["order_state"] or "created")
    await _check_if_signed(uow, event.contract_id, envelope.time)


async def _line_fulfilled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OrderLineFulfilled = envelope.event
    await table.ensure_order(uow.conn, event.contract_id)
    row = await table.locked(uow.conn, event.contract_id)
    contract_line = row["order_lines"].get(str(event.order_line_id))
    if contract_line is not None:
        await table.update(uow.conn, event.contract_id,
                           fulfilled_lines={**row["fulfilled_lines"], contract_line: str(event.service_line_id)})
    await _check_if_signed(uow, event.contract_id, envelope.time)


async def _order_outcome(uow: UnitOfWork, envelope: Envelope) -> None:
    """Fulfilled, or a line fell out: either way what is active is what the customer has now."""
    event: OrderFulfilled | OrderLineFallout = envelope.event
    await table.ensure_order(uow.conn, event.contract_id)
    outcome = "fulfilled" if isinstance(event, OrderFulfilled) else "fallout"
    row = await table.locked(uow.conn, event.contract_id)
    if row["order_state"] != "fulfilled":
        await table.update(uow.conn, event.contract_id, order_state=outcome)
    await _check_if_signed(uow, event.contract_id, envelope.time)


def _concrete(cls) -> list[type]:
    found = [] if cls.__name__.startswith("_") else [cls]
    for sub in cls.__subclasses__():
        found += _concrete(sub)
    return found


CONSUMER_NAME = "order_sync-reconciliation"
HANDLERS = {
    ContractExecuted: _executed,
    ContractActivatedV2: _signed,
    OrderCreated: _order_created,
    OrderLineFulfilled: _line_fulfilled,
    OrderLineFallout: _order_outcome,
    OrderFulfilled: _order_outcome,
    **{cls: _service_contract_changed for cls in _concrete(_ServiceContractEvent)},
}


# -- the periodic check ---------------------------------------------------------------------------

async def check_all(ctx) -> int:
    """Checks every executed contract once, each in its own transaction; returns how many."""
    after, checked = None, 0
    while True:
        async with ctx.engine.connect() as conn:
            ids = await table.signed_ids(conn, after, 200)
        for contract_id in ids:
            try:
                await check(ctx.uow(), contract_id, ctx.clock.now())
                checked += 1
            except Exception as exc:  # one contract's failure (a conflict with a concurrent check) must not stop the rest
                log.warning("reconciliation.check_failed", contract_id=str(contract_id), error=repr(exc))
        if len(ids) < 200:
            return checked
        after = ids[-1]


async def run_reconciliation(ctx, stop: asyncio.Event) -> None:
    """Every RECONCILIATION_INTERVAL_SECONDS, a check of every executed contract."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), ctx.settings.reconciliation_interval_seconds)
            return
        except TimeoutError:
            pass
        try:
            await check_all(ctx)
        except Exception as exc:  # an outage: the next round tries again
            log.warning("reconciliation.round_failed", error=repr(exc))
