"""The shared contract record's history: an entry whenever a contract's dates or terms change
(ServiceNow's "history copy"), with what changed (each field before and after), when (the event's
own time) and by which event. An entry is keyed by its event's id, so an event applied again (a
redelivery, a rebuild) writes it once; each entry compares with the row as the contract's own
stream left it, so the rebuild reproduces it."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.envelope import Envelope
from services.projection.adapters.contract_records import contracts, metadata

contract_history = sa.Table(
    "contract_history", metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changes", JSONB, nullable=False),  # [{"field", "before", "after"}]
    sa.Index("contract_history_contract", "contract_id", "at"),
)


def plain(value):
    """A value as JSON keeps it: dates as ISO text, amounts as their digits."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def _same(before, after) -> bool:
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        return (before is None) == (after is None) and (before is None or Decimal(before) == Decimal(after))
    return before == after


async def record(conn: AsyncConnection, contract_id: UUID, envelope: Envelope, changes: list[dict]) -> None:
    if changes:
        await conn.execute(insert(contract_history).values(
            event_id=envelope.event_id, contract_id=contract_id, event_type=envelope.event.event_type,
            stream_version=envelope.stream_version, at=envelope.time, changes=changes,
        ).on_conflict_do_nothing())


async def record_changes(conn: AsyncConnection, contract_id: UUID, envelope: Envelope, after: dict,
                         unless_unset: str | None = None) -> None:
    """An entry for the fields of `after` whose values differ from the row's: none for a new row, nor
    when the row's `unless_unset` column is empty (what the entry would compare with never arrived)."""
    columns = {*after, *([unless_unset] if unless_unset else [])}
    row = (await conn.execute(sa.select(*(contracts.c[name] for name in columns))
                              .where(contracts.c.contract_id == contract_id))).mappings().one_or_none()
    if row is None or (unless_unset and row[unless_unset] is None):
        return
    await record(conn, contract_id, envelope, [
        {"field": name, "before": plain(row[name]), "after": plain(value)}
        for name, value in after.items() if not _same(row[name], value)
    ])


async def history_of(conn: AsyncConnection, contract_id: UUID) -> list[dict]:
    h = contract_history
    rows = await conn.execute(sa.select(h.c.at, h.c.event_type, h.c.event_id, h.c.changes)
                              .where(h.c.contract_id == contract_id).order_by(h.c.at, h.c.stream_version, h.c.event_id))
    return [dict(r._mapping) for r in rows]


async def renewed_ends(conn: AsyncConnection, contract_id: UUID) -> list[tuple[dt.date, dt.date]]:
    """(end before, end after) of each tacit renewal the record took (ContractRenewed entries)."""
    rows = await conn.execute(sa.select(contract_history.c.changes).where(
        contract_history.c.contract_id == contract_id, contract_history.c.event_type == "ContractRenewed"))
    return [(dt.date.fromisoformat(c["before"]), dt.date.fromisoformat(c["after"]))
            for changes, in rows for c in changes if c["field"] == "end_date" and c["before"] and c["after"]]
