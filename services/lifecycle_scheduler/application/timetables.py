"""Use cases of service contract timers: keep them in step with order sync's events, fire what is
due, list a contract's timers.

Handlers run in the consumer's unit of work (the inbox row commits with them), so each event
changes the timers once however often it is delivered. The consumer hands them runs of events
(a fetch's consecutive order sync events), applied as one statement per table and kind of change.
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
from shared.backbone.event_routing import Batched, HandlerTable
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
#
# Every event type below maps to one `Batched` handler (shared/backbone/event_routing.py): a run
# of them, say the 600,000 expiry events of a wave, becomes a handful of statements instead of
# one per event. `_TimerChanges` collects the run's writes by kind and applies each kind as one
# statement; the rows end as event by event because a change that would not commute with one
# already collected (a drop after a write of the same contract, a write after a drop, a timer
# written twice) first applies what was collected. Drops commute with drops, and writes of
# different timers with each other, so a wave's run is one statement per table.


class _TimerChanges:
    def __init__(self, conn: AsyncConnection, zones: dict[UUID, str]):
        self.conn = conn
        self.zones = zones  # each contract's zone as the run has it so far; absent: unknown
        self._collect_anew()

    def _collect_anew(self) -> None:
        self._zones: dict[UUID, str] = {}
        self._drops: list[tuple[UUID, UUID, str]] = []
        self._writes: dict[tuple[UUID, UUID, str], tuple[UUID, Timer]] = {}
        self._moves: dict[tuple[UUID, UUID, str], tuple[UUID, Timer]] = {}
        self._dropping: set[UUID] = set()
        self._writing: set[UUID] = set()

    async def apply(self) -> None:
        """What was collected, zones first (a timer's contract must be known)."""
        await service_timers.set_zones(self.conn, self._zones)
        await service_timers.drop_many(self.conn, self._drops)
        await service_timers.set_many_timers(self.conn, list(self._writes.values()))
        await service_timers.set_many_timers(self.conn, list(self._moves.values()), move=True)
        self._collect_anew()

    def set_zone(self, contract_id: UUID, time_zone: str) -> None:
        self.zones[contract_id] = self._zones[contract_id] = time_zone

    async def drop(self, contract_id: UUID, item_id: UUID, scope: str) -> None:
        if contract_id in self._writing:
            await self.apply()
        self._dropping.add(contract_id)
        self._drops.append((contract_id, item_id, scope))

    async def write(self, contract_id: UUID, timers: list[Timer], move: bool = False) -> None:
        keys = [(contract_id, t.item_id, t.transition) for t in timers]
        if contract_id in self._dropping or any(k in self._writes or k in self._moves for k in keys):
            await self.apply()
        self._writing.add(contract_id)
        for key, timer in zip(keys, timers):
            (self._moves if move else self._writes)[key] = (contract_id, timer)

    async def move(self, contract_id: UUID, timers: Callable[[str], list[Timer]]) -> None:
        zone = self.zones.get(contract_id)
        if zone is not None:  # an unknown contract has no timers to move
            await self.write(contract_id, timers(zone), move=True)

    def known_zone(self, contract_id: UUID) -> str:
        zone = self.zones.get(contract_id)
        if zone is None:  # order sync records a contract before anything else of it, on the same partition
            raise NotFound("service_contract", contract_id)
        return zone


async def _contract_created(ch: _TimerChanges, event) -> None:
    previous = ch.zones.get(event.contract_id)
    if previous is not None and previous != event.time_zone:
        await ch.apply()
        await _contract_rezoned(ch.conn, event)
        ch.zones[event.contract_id] = event.time_zone
        return
    ch.set_zone(event.contract_id, event.time_zone)
    await ch.write(event.contract_id, contract_timers(event))


async def _contract_rezoned(conn: AsyncConnection, event) -> None:
    await service_timers.set_zone(conn, event.contract_id, event.time_zone)
    # Items the event does not list (added since) are read in the new zone too.
    existing = [service_timers.as_timer(r) for r in await service_timers.timers_of(conn, event.contract_id)]
    await service_timers.set_timers(conn, event.contract_id, [t.rezoned(event.time_zone) for t in existing])
    await service_timers.set_timers(conn, event.contract_id, contract_timers(event))


async def _line_added(ch: _TimerChanges, e) -> None:
    await ch.write(e.contract_id, line_timers(e.line, ch.known_zone(e.contract_id)))


async def _entitlement_added(ch: _TimerChanges, e) -> None:
    await ch.write(e.contract_id, entitlement_timers(e.entitlement, ch.known_zone(e.contract_id)))


async def _contract_dates_changed(ch: _TimerChanges, e) -> None:
    await ch.move(e.contract_id, lambda zone: [activation("contract", e.contract_id, e.start_date, zone),
                                               expiry("contract", e.contract_id, e.end_date, zone)])


async def _line_dates_changed(ch: _TimerChanges, e) -> None:
    await ch.move(e.contract_id, lambda zone: [activation("line", e.line_id, e.start_date, zone),
                                               expiry("line", e.line_id, e.end_date, zone)])


async def _line_disconnected(ch: _TimerChanges, e) -> None:
    await ch.move(e.contract_id, lambda zone: [expiry("line", e.line_id, e.end_date, zone)])


async def _entitlement_dates_changed(ch: _TimerChanges, e) -> None:
    await ch.move(e.contract_id, lambda zone: [activation("entitlement", e.entitlement_id, e.start_date, zone),
                                               expiry("entitlement", e.entitlement_id, e.end_date, zone)])


async def _contract_activated(ch: _TimerChanges, e) -> None:
    await ch.drop(e.contract_id, e.contract_id, "activation")


async def _line_activated(ch: _TimerChanges, e) -> None:
    await ch.drop(e.contract_id, e.line_id, "activation")


async def _entitlement_activated(ch: _TimerChanges, e) -> None:
    await ch.drop(e.contract_id, e.entitlement_id, "activation")


async def _contract_ended(ch: _TimerChanges, e) -> None:
    await ch.drop(e.contract_id, e.contract_id, "contract")


async def _line_ended(ch: _TimerChanges, e) -> None:
    # The entitlements attached to a line go with it (removal, and a parent's expiry cascades).
    await ch.drop(e.contract_id, e.line_id, "line")


async def _entitlement_ended(ch: _TimerChanges, e) -> None:
    await ch.drop(e.contract_id, e.entitlement_id, "item")


async def _line_resumed(ch: _TimerChanges, e) -> None:
    # On resume an item takes the state its dates give: active needs no activation, terminal nothing.
    if e.state == ServiceState.ACTIVE:
        await ch.drop(e.contract_id, e.line_id, "activation")
    elif e.state in TERMINAL:
        await ch.drop(e.contract_id, e.line_id, "line")


async def _entitlement_resumed(ch: _TimerChanges, e) -> None:
    if e.state == ServiceState.ACTIVE:
        await ch.drop(e.contract_id, e.entitlement_id, "activation")
    elif e.state in TERMINAL:
        await ch.drop(e.contract_id, e.entitlement_id, "item")


# Events of other types (edits, quantities, suspensions, anything new) leave the timers alone.
_CHANGES: dict[type[Event], Callable[[_TimerChanges, Event], Awaitable[None]]] = {
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


async def keep_timers_in_step(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    """Applies a run of order sync's events to the timers (one event: the same, as a run of one)."""
    contract_ids = list(dict.fromkeys(envelope.event.contract_id for envelope in envelopes))
    changes = _TimerChanges(uow.conn, await service_timers.zones_of(uow.conn, contract_ids))
    for envelope in envelopes:
        await _CHANGES[type(envelope.event)](changes, envelope.event)
    await changes.apply()


_KEEP_IN_STEP = Batched(keep_timers_in_step)
HANDLERS: HandlerTable = {event_type: _KEEP_IN_STEP for event_type in _CHANGES}


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
