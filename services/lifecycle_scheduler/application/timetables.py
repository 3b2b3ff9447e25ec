"""Use cases of service contract timers: keep them in step with order sync's events, fire what is
due, list a contract's timers.

Handlers run in the consumer's unit of work (the inbox row commits with them), so each event
changes the timers once however often it is delivered.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone import event_store
from shared.backbone.app import ServiceContext
from shared.backbone.errors import NotFound
from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.base import Event
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineCanceled,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineExpired,
    ContractLineRemoved,
    ContractLineResumed,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementDatesChanged,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)
from shared.events.envelope import Envelope
from services.lifecycle_scheduler.adapters import service_timers
from services.lifecycle_scheduler.application import contract_periods
from services.lifecycle_scheduler.domain import renewal_hold
from services.lifecycle_scheduler.domain.renewal_hold import held_for_renewal
from services.lifecycle_scheduler.domain.timetable import (
    TERMINAL,
    ServiceContractTimetable,
    Timer,
    activation,
    contract_timers,
    entitlement_timers,
    expiry,
    line_timers,
)

ACTOR = "lifecycle_scheduler"


# -- keeping timers in step -------------------------------------------------------------------


async def _contract_created(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, event = uow.conn, envelope.event
    previous = await service_timers.zone_of(conn, event.contract_id)
    await service_timers.set_zone(conn, event.contract_id, event.time_zone)
    if previous is not None and previous != event.time_zone:
        # Items the event does not list (added since) are read in the new zone too.
        existing = [service_timers.as_timer(r) for r in await service_timers.timers_of(conn, event.contract_id)]
        await service_timers.set_timers(conn, event.contract_id, [t.rezoned(event.time_zone) for t in existing])
    await service_timers.set_timers(conn, event.contract_id, contract_timers(event))


async def _known_zone(conn: AsyncConnection, contract_id: UUID) -> str:
    zone = await service_timers.zone_of(conn, contract_id)
    if zone is None:  # order sync records a contract before anything else of it, on the same partition
        raise NotFound("service_contract", contract_id)
    return zone


async def _line_added(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, event = uow.conn, envelope.event
    zone = await _known_zone(conn, event.contract_id)
    await service_timers.set_timers(conn, event.contract_id, line_timers(event.line, zone))


async def _entitlement_added(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, event = uow.conn, envelope.event
    zone = await _known_zone(conn, event.contract_id)
    await service_timers.set_timers(conn, event.contract_id, entitlement_timers(event.entitlement, zone))


async def _move(conn: AsyncConnection, contract_id: UUID, timers: Callable[[str], list[Timer]]) -> None:
    zone = await service_timers.zone_of(conn, contract_id)
    if zone is not None:  # an unknown contract has no timers to move
        await service_timers.move_timers(conn, contract_id, timers(zone))


async def _contract_dates_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await _move(conn, e.contract_id, lambda zone: [activation("contract", e.contract_id, e.start_date, zone),
                                                   expiry("contract", e.contract_id, e.end_date, zone)])


async def _line_dates_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await _move(conn, e.contract_id, lambda zone: [activation("line", e.line_id, e.start_date, zone),
                                                   expiry("line", e.line_id, e.end_date, zone)])


async def _line_disconnected(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await _move(conn, e.contract_id, lambda zone: [expiry("line", e.line_id, e.end_date, zone)])


async def _entitlement_dates_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await _move(conn, e.contract_id, lambda zone: [activation("entitlement", e.entitlement_id, e.start_date, zone),
                                                   expiry("entitlement", e.entitlement_id, e.end_date, zone)])


async def _contract_activated(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await service_timers.drop_activation(conn, e.contract_id, e.contract_id)


async def _line_activated(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await service_timers.drop_activation(conn, e.contract_id, e.line_id)


async def _entitlement_activated(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await service_timers.drop_activation(conn, e.contract_id, e.entitlement_id)


async def _contract_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await service_timers.drop_unfired(conn, e.contract_id)


async def _line_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    # The entitlements attached to a line go with it (removal, and a parent's expiry cascades).
    await service_timers.drop_unfired_of_line(conn, e.contract_id, e.line_id)


async def _entitlement_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    await service_timers.drop_unfired(conn, e.contract_id, e.entitlement_id)


async def _line_resumed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    # On resume an item takes the state its dates give: active needs no activation, terminal nothing.
    if e.state == ServiceState.ACTIVE:
        await service_timers.drop_activation(conn, e.contract_id, e.line_id)
    elif e.state in TERMINAL:
        await service_timers.drop_unfired_of_line(conn, e.contract_id, e.line_id)


async def _entitlement_resumed(uow: UnitOfWork, envelope: Envelope) -> None:
    conn, e = uow.conn, envelope.event
    if e.state == ServiceState.ACTIVE:
        await service_timers.drop_activation(conn, e.contract_id, e.entitlement_id)
    elif e.state in TERMINAL:
        await service_timers.drop_unfired(conn, e.contract_id, e.entitlement_id)


# Events of other types (edits, quantities, suspensions, anything new) leave the timers alone.
HANDLERS: HandlerTable = {
    ServiceContractDrafted: _contract_created,
    ServiceContractRecorded: _contract_created,
    ServiceContractDatesChanged: _contract_dates_changed,
    ServiceContractActivated: _contract_activated,
    ServiceContractExpired: _contract_ended,
    ServiceContractCanceled: _contract_ended,
    ContractLineAdded: _line_added,
    ContractLineDatesChanged: _line_dates_changed,
    ContractLineDisconnected: _line_disconnected,
    ContractLineActivated: _line_activated,
    ContractLineRemoved: _line_ended,
    ContractLineExpired: _line_ended,
    ContractLineCanceled: _line_ended,
    ContractLineResumed: _line_resumed,
    EntitlementAdded: _entitlement_added,
    EntitlementDatesChanged: _entitlement_dates_changed,
    EntitlementActivated: _entitlement_activated,
    EntitlementRemoved: _entitlement_ended,
    EntitlementExpired: _entitlement_ended,
    EntitlementCanceled: _entitlement_ended,
    EntitlementResumed: _entitlement_resumed,
}


# -- firing -----------------------------------------------------------------------------------


@dataclass
class SweepMark:
    """Where a sweep's last batch ended, in claim order, so the next batch starts there. Unfired
    timers behind it (moved earlier meanwhile, or the earlier timers of a contract a full batch
    left out) wait for the next sweep, which starts with a fresh mark."""

    due_at: dt.datetime | None = None
    contract_id: UUID | None = None


async def fire_due_service_timers(ctx: ServiceContext, batch_size: int = 2000, mark: SweepMark | None = None) -> int:
    """Fires one batch of due timers in one transaction: marks them fired and records one
    ServiceContractDateReached per contract through the event store (the outbox); expiries held for
    a tacit renewal (domain/renewal_hold.py) are postponed instead. Returns how many timers fired
    or were postponed; 0 when nothing is due. With a mark, starts where it says and moves it."""
    now = ctx.clock.now()
    after = (mark.due_at, mark.contract_id) if mark and mark.due_at else None
    async with ctx.uow(actor=ACTOR) as uow:
        claimed = await service_timers.claim_due(uow.conn, now, batch_size, after)
        if not claimed:
            return 0
        swept = _whole_contracts(claimed, full=len(claimed) == batch_size)
        zones = await service_timers.zones_of(uow.conn, list({row.contract_id for row in swept}))
        renewing = await contract_periods.period_states(uow.conn, list({row.contract_id for row in swept}))
        held = {row.ctid for row in swept if held_for_renewal(
            row.transition, row.due_on, zones[row.contract_id], renewing.get(row.contract_id), now)}
        await service_timers.postpone(uow.conn, [row for row in swept if row.ctid in held], now + renewal_hold.STEP)
        firing = [row for row in swept if row.ctid not in held]
        by_contract: dict[UUID, list[Timer]] = defaultdict(list)
        for row in firing:
            by_contract[row.contract_id].append(service_timers.as_timer(row))
        await service_timers.mark_fired(uow.conn, firing, now)
        # From here to commit the service's appenders wait for this one, replicas included: only
        # the versions, building the events and one INSERT happen in that window.
        streams = {contract_id: ServiceContractTimetable.stream_id(contract_id) for contract_id in by_contract}
        await uow.serialize()
        versions = await event_store.current_versions(uow.conn, list(streams.values()))
        for contract_id, timers in by_contract.items():
            timetable = ServiceContractTimetable.at_version(contract_id, versions[streams[contract_id]])
            timetable.reach(timers, zones[contract_id], now)
            uow.add(timetable)
        await uow.commit()  # one append_many for the whole batch; wakes the relay
    if mark is not None:
        mark.due_at, mark.contract_id = swept[-1].due_at, swept[-1].contract_id
    return len(swept)


def _whole_contracts(claimed: list, full: bool) -> list:
    """A full batch may end inside the last contract's timers: those wait for the next sweep, so a
    contract's timers that are due together go out in one event."""
    if not full:
        return claimed
    last = claimed[-1].contract_id
    rest = [row for row in claimed if row.contract_id != last]
    return rest or claimed  # one contract with more timers than a batch: fire them as they come


# -- reading ----------------------------------------------------------------------------------


async def list_timers(uow: UnitOfWork, contract_id: UUID) -> tuple[str, list]:
    """The contract's zone and its timers, fired or not; NotFound when the scheduler knows no such contract."""
    async with uow:
        zone = await service_timers.zone_of(uow.conn, contract_id)
        if zone is None:
            raise NotFound("service_contract", contract_id)
        return zone, await service_timers.timers_of(uow.conn, contract_id)
