"""Durable timers of service contracts: what falls due when, per contract, line and entitlement.

`service_contract_zones` says which contracts the scheduler knows and the zone their dates are
read in; `service_timers` holds one row per (item, transition). A row stays after it fires
(`fired_at`), so a later date change can tell a new due instant from the one already fired.
The partial index on unfired timers, in claim order, makes a sweep cost what is due, not what
exists. The consumer writes a run of events of many contracts at once (set_zones, drop_many,
set_many_timers: each one prepared `unnest` statement whatever the run's length); set_zone and
set_timers serve the rare per-contract path (a known contract's zone changing).
"""

import datetime as dt
from typing import Iterable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.lifecycle_scheduler.adapters.timers import metadata
from services.lifecycle_scheduler.domain.timetable import Timer

zones = sa.Table(
    "service_contract_zones",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("time_zone", sa.Text, nullable=False),
)

service_timers = sa.Table(
    "service_timers",
    metadata,
    sa.Column("contract_id", sa.Uuid, sa.ForeignKey("service_contract_zones.contract_id"), primary_key=True),
    sa.Column("item_id", sa.Uuid, primary_key=True),
    sa.Column("transition", sa.Text, primary_key=True),
    sa.Column("item_kind", sa.Text, nullable=False),
    sa.Column("line_id", sa.Uuid),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("item_kind IN ('contract', 'line', 'entitlement')", name="service_timers_item_kind"),
    sa.CheckConstraint("transition IN ('activation', 'expiry')", name="service_timers_transition"),
    sa.Index("service_timers_due", "due_at", "contract_id", postgresql_where=sa.text("fired_at IS NULL")),
)

# Due, unfired timers in due order, locked for this transaction: another replica skips them.
# Reads the partial index service_timers_due from its start up to `now`, and no further.
CLAIM_DUE = sa.text(
    """
    SELECT ctid, contract_id, item_kind, item_id, transition, due_on, due_at, line_id
    FROM service_timers
    WHERE fired_at IS NULL AND due_at <= :now
    ORDER BY due_at, contract_id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)

# The same from where the sweep's previous batch ended. The index entries of timers just fired
# stay until vacuum; read from the start each batch, a sweep of n timers would cost n squared.
CLAIM_DUE_AFTER = sa.text(
    """
    SELECT ctid, contract_id, item_kind, item_id, transition, due_on, due_at, line_id
    FROM service_timers
    WHERE fired_at IS NULL AND due_at <= :now AND (due_at, contract_id) >= (:after_due_at, :after_contract_id)
    ORDER BY due_at, contract_id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)

_MARK_FIRED = sa.text("UPDATE service_timers SET fired_at = :now WHERE ctid = ANY(CAST(:ctids AS tid[]))")
_POSTPONE = sa.text("UPDATE service_timers SET due_at = :due_at WHERE ctid = ANY(CAST(:ctids AS tid[]))")


async def zone_of(conn: AsyncConnection, contract_id: UUID) -> str | None:
    return (await conn.execute(sa.select(zones.c.time_zone).where(zones.c.contract_id == contract_id))).scalar_one_or_none()


async def zones_of(conn: AsyncConnection, contract_ids: list[UUID]) -> dict[UUID, str]:
    query = sa.select(zones.c.contract_id, zones.c.time_zone).where(
        zones.c.contract_id == sa.any_(sa.bindparam("contract_ids", contract_ids, type_=ARRAY(sa.Uuid)))
    )
    return {contract_id: zone for contract_id, zone in await conn.execute(query)}


async def set_zone(conn: AsyncConnection, contract_id: UUID, time_zone: str) -> None:
    statement = insert(zones).values(contract_id=contract_id, time_zone=time_zone)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=[zones.c.contract_id], set_={"time_zone": time_zone})
    )


# One statement text whatever the number of timers, so it is compiled and prepared once: a
# multi-row VALUES is compiled anew for every call, which cost more than PostgreSQL took to run it.
_SET_TIMERS = sa.text(
    """
    INSERT INTO service_timers (contract_id, item_id, transition, item_kind, line_id, due_on, due_at, fired_at)
    SELECT CAST(:contract_id AS uuid), t.item_id, t.transition, t.item_kind, t.line_id, t.due_on, t.due_at, NULL
    FROM unnest(CAST(:item_id AS uuid[]), CAST(:transition AS text[]), CAST(:item_kind AS text[]),
                CAST(:line_id AS uuid[]), CAST(:due_on AS date[]), CAST(:due_at AS timestamptz[]))
         AS t(item_id, transition, item_kind, line_id, due_on, due_at)
    ON CONFLICT (contract_id, item_id, transition) DO UPDATE
    SET due_on = EXCLUDED.due_on, due_at = EXCLUDED.due_at, fired_at = NULL,
        line_id = coalesce(EXCLUDED.line_id, service_timers.line_id)
    WHERE service_timers.due_at <> EXCLUDED.due_at
    """
)


async def set_timers(conn: AsyncConnection, contract_id: UUID, timers: Iterable[Timer]) -> None:
    """Creates the timers or moves them; a timer whose due instant changes is unfired again, one
    whose instant stays is left as it is (fired or not)."""
    timers = list(timers)
    if not timers:
        return
    await conn.execute(_SET_TIMERS, {
        "contract_id": contract_id,
        "item_id": [t.item_id for t in timers],
        "transition": [t.transition for t in timers],
        "item_kind": [t.item_kind for t in timers],
        "line_id": [t.line_id for t in timers],
        "due_on": [t.due_on for t in timers],
        "due_at": [t.due_at for t in timers],
    })


# -- a run of events at once (application/timetables.py `_TimerChanges`) ----------------------
# Each a text constant whatever the run's length, so asyncpg prepares it once per connection.

_SET_ZONES = sa.text(
    """
    INSERT INTO service_contract_zones (contract_id, time_zone)
    SELECT * FROM unnest(CAST(:contract_id AS uuid[]), CAST(:time_zone AS text[]))
    ON CONFLICT (contract_id) DO UPDATE SET time_zone = EXCLUDED.time_zone
    """
)

# What a drop removes, by `scope`: 'activation' the item's activation timer; 'item' the item's
# unfired timers; 'line' those of the line and of the entitlements attached to it; 'contract'
# every unfired timer of the contract (item_id is then the contract's id, and ignored).
_DROP = sa.text(
    """
    DELETE FROM service_timers t
    USING unnest(CAST(:contract_id AS uuid[]), CAST(:item_id AS uuid[]), CAST(:scope AS text[]))
          AS d(contract_id, item_id, scope)
    WHERE t.contract_id = d.contract_id AND CASE d.scope
        WHEN 'activation' THEN t.item_id = d.item_id AND t.transition = 'activation'
        WHEN 'item' THEN t.fired_at IS NULL AND t.item_id = d.item_id
        WHEN 'line' THEN t.fired_at IS NULL AND (t.item_id = d.item_id OR t.line_id = d.item_id)
        WHEN 'contract' THEN t.fired_at IS NULL
    END
    """
)

# set_timers for many contracts; no two rows of one call may share a key (ON CONFLICT would refuse).
_SET_MANY_TIMERS = sa.text(
    """
    INSERT INTO service_timers (contract_id, item_id, transition, item_kind, line_id, due_on, due_at, fired_at)
    SELECT t.contract_id, t.item_id, t.transition, t.item_kind, t.line_id, t.due_on, t.due_at, NULL
    FROM unnest(CAST(:contract_id AS uuid[]), CAST(:item_id AS uuid[]), CAST(:transition AS text[]),
                CAST(:item_kind AS text[]), CAST(:line_id AS uuid[]), CAST(:due_on AS date[]),
                CAST(:due_at AS timestamptz[]))
         AS t(contract_id, item_id, transition, item_kind, line_id, due_on, due_at)
    ON CONFLICT (contract_id, item_id, transition) DO UPDATE
    SET due_on = EXCLUDED.due_on, due_at = EXCLUDED.due_at, fired_at = NULL,
        line_id = coalesce(EXCLUDED.line_id, service_timers.line_id)
    WHERE service_timers.due_at <> EXCLUDED.due_at
    """
)

# Like _SET_MANY_TIMERS, but only for timers the item has: moving dates never gives an item a timer it
# does not have (an active item has no activation timer). Likewise one row per key.
_MOVE_MANY_TIMERS = sa.text(
    """
    UPDATE service_timers t SET due_on = m.due_on, due_at = m.due_at, fired_at = NULL
    FROM unnest(CAST(:contract_id AS uuid[]), CAST(:item_id AS uuid[]), CAST(:transition AS text[]),
                CAST(:due_on AS date[]), CAST(:due_at AS timestamptz[]))
         AS m(contract_id, item_id, transition, due_on, due_at)
    WHERE t.contract_id = m.contract_id AND t.item_id = m.item_id AND t.transition = m.transition
      AND t.due_at <> m.due_at
    """
)


async def set_zones(conn: AsyncConnection, zone_by_contract: dict[UUID, str]) -> None:
    if zone_by_contract:
        await conn.execute(_SET_ZONES, {"contract_id": list(zone_by_contract),
                                        "time_zone": list(zone_by_contract.values())})


async def drop_many(conn: AsyncConnection, drops: list[tuple[UUID, UUID, str]]) -> None:
    """(contract_id, item_id, scope) each, scopes as _DROP says."""
    if drops:
        await conn.execute(_DROP, {"contract_id": [d[0] for d in drops], "item_id": [d[1] for d in drops],
                                   "scope": [d[2] for d in drops]})


async def set_many_timers(conn: AsyncConnection, timers: list[tuple[UUID, Timer]], move: bool = False) -> None:
    """(contract_id, timer) each, at most one per (contract, item, transition), in one statement:
    created or moved (a timer whose due instant changes is unfired again, one whose instant stays
    is left as it is); with `move` only those that exist are moved."""
    if not timers:
        return
    params = {
        "contract_id": [c for c, _ in timers],
        "item_id": [t.item_id for _, t in timers],
        "transition": [t.transition for _, t in timers],
        "due_on": [t.due_on for _, t in timers],
        "due_at": [t.due_at for _, t in timers],
    }
    if not move:
        params |= {"item_kind": [t.item_kind for _, t in timers], "line_id": [t.line_id for _, t in timers]}
    await conn.execute(_MOVE_MANY_TIMERS if move else _SET_MANY_TIMERS, params)


async def timers_of(conn: AsyncConnection, contract_id: UUID) -> list:
    t = service_timers.c
    query = (
        sa.select(service_timers)
        .where(t.contract_id == contract_id)
        .order_by(t.due_at, t.item_kind, t.item_id, t.transition)
    )
    return list(await conn.execute(query))


def as_timer(row) -> Timer:
    return Timer(row.item_kind, row.item_id, row.transition, row.due_on, row.due_at, row.line_id)


async def claim_due(conn: AsyncConnection, now: dt.datetime, limit: int,
                    after: tuple[dt.datetime, UUID] | None = None) -> list:
    """Up to `limit` due timers in (due_at, contract_id) order, from `after` on when given."""
    if after is None:
        return list(await conn.execute(CLAIM_DUE, {"now": now, "limit": limit}))
    params = {"now": now, "limit": limit, "after_due_at": after[0], "after_contract_id": after[1]}
    return list(await conn.execute(CLAIM_DUE_AFTER, params))


async def postpone(conn: AsyncConnection, claimed: list, due_at: dt.datetime) -> None:
    """Claimed timers due again at `due_at`, unfired (their `due_on` stays: the date they announce)."""
    if claimed:
        await conn.execute(_POSTPONE, {"due_at": due_at, "ctids": [row.ctid for row in claimed]})


async def mark_fired(conn: AsyncConnection, claimed: list, now: dt.datetime) -> None:
    """One statement for the batch. By row address: the rows are locked by this transaction, so
    their addresses cannot change before it ends."""
    if claimed:
        await conn.execute(_MARK_FIRED, {"now": now, "ctids": [row.ctid for row in claimed]})
