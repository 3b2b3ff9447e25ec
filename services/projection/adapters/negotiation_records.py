"""The negotiation's part of the shared contract record: the deviations flagged and cleared in a
contract's versions and the state of its comment threads, each kept in its own table so that the
contract's counts (`contracts.open_deviations`, `contracts.open_comments`) are recounted from them
after every write. A count recounted from rows merged in any order is the same in any order.

- A deviation is flagged once and cleared at most once (by its id): each event sets its own
  columns, so a clearing that arrives before the flagging still clears it.
- A thread travels on clm.comments.v1 keyed by thread_id, with no order against the contract's
  events (its row, and the contract's, may not exist yet): whether it is open is what the latest
  resolution or reopening of its stream says (`status_version`); before either it is open.

The columns the versions and negotiated terms set on `contracts` go through
contract_records.merge_request: clm's one contract stream orders them (by stream version).
"""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.contract_records import contracts, metadata

contract_deviations = sa.Table(
    "contract_deviations", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("deviation_id", sa.Uuid, primary_key=True),
    # From DeviationFlagged: none while only its clearing has arrived.
    sa.Column("version_number", sa.Integer),
    sa.Column("kind", sa.Text),
    sa.Column("clause_number", sa.Text),
    sa.Column("heading", sa.Text),
    sa.Column("term", sa.Text),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("flagged_at", sa.DateTime(timezone=True)),
    # From DeviationCleared.
    sa.Column("cleared_in_version", sa.Integer),
    sa.Column("cleared_at", sa.DateTime(timezone=True)),
)

contract_comment_threads = sa.Table(
    "contract_comment_threads", metadata,
    sa.Column("thread_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("status_version", sa.Integer, nullable=False),  # stream version of what set is_open; 0: none yet
    sa.Index("contract_comment_threads_contract", "contract_id", "is_open"),
)

FLAGGED = ("version_number", "kind", "clause_number", "heading", "term", "before", "after", "flagged_at")
CLEARED = ("cleared_in_version", "cleared_at")


async def flag_deviation(conn: AsyncConnection, contract_id: UUID, deviation_id: UUID, at: dt.datetime,
                         **flagged) -> None:
    await _merge_deviation(conn, contract_id, deviation_id, at, flagged)


async def clear_deviation(conn: AsyncConnection, contract_id: UUID, deviation_id: UUID, at: dt.datetime, *,
                          cleared_in_version: int, cleared_at: dt.datetime) -> None:
    await _merge_deviation(conn, contract_id, deviation_id, at,
                           {"cleared_in_version": cleared_in_version, "cleared_at": cleared_at})


async def _merge_deviation(conn: AsyncConnection, contract_id: UUID, deviation_id: UUID, at: dt.datetime,
                           values: dict) -> None:
    statement = insert(contract_deviations).values(contract_id=contract_id, deviation_id=deviation_id, **values)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[contract_deviations.c.contract_id, contract_deviations.c.deviation_id],
        set_={name: statement.excluded[name] for name in values}))
    d = contract_deviations
    await _set_count(conn, contract_id, at, "open_deviations", sa.select(sa.func.count()).where(
        d.c.contract_id == contract_id, d.c.flagged_at.is_not(None), d.c.cleared_at.is_(None)).scalar_subquery())


async def merge_thread(conn: AsyncConnection, thread_id: UUID, contract_id: UUID, at: dt.datetime,
                       stream_version: int, is_open: bool | None = None) -> None:
    """A thread's event: it exists from any of them on; `is_open` (a resolution or reopening) holds
    if it is the latest such event of the thread's stream."""
    t = contract_comment_threads
    statement = insert(t).values(thread_id=thread_id, contract_id=contract_id,
                                 is_open=True if is_open is None else is_open,
                                 status_version=0 if is_open is None else stream_version)
    if is_open is None:
        await conn.execute(statement.on_conflict_do_nothing(index_elements=[t.c.thread_id]))
    else:
        later = t.c.status_version < stream_version
        await conn.execute(statement.on_conflict_do_update(index_elements=[t.c.thread_id], set_={
            "is_open": sa.case((later, statement.excluded.is_open), else_=t.c.is_open),
            "status_version": sa.func.greatest(t.c.status_version, stream_version)}))
    await _set_count(conn, contract_id, at, "open_comments", sa.select(sa.func.count()).where(
        t.c.contract_id == contract_id, t.c.is_open).scalar_subquery())


async def _set_count(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, column: str, count) -> None:
    statement = insert(contracts).values(contract_id=contract_id, updated_at=at, **{column: count})
    await conn.execute(statement.on_conflict_do_update(index_elements=[contracts.c.contract_id], set_={
        column: statement.excluded[column],
        "updated_at": sa.func.greatest(contracts.c.updated_at, statement.excluded.updated_at)}))


async def deviations(conn: AsyncConnection, contract_id: UUID, *, status: str | None, after: UUID | None,
                     limit: int) -> list[dict]:
    d = contract_deviations
    query = sa.select(d).where(d.c.contract_id == contract_id, d.c.flagged_at.is_not(None))
    if status == "open":
        query = query.where(d.c.cleared_at.is_(None))
    elif status == "cleared":
        query = query.where(d.c.cleared_at.is_not(None))
    if after is not None:
        query = query.where(d.c.deviation_id > after)
    return [dict(r) for r in (await conn.execute(query.order_by(d.c.deviation_id).limit(limit))).mappings()]


async def clear(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("TRUNCATE contract_deviations, contract_comment_threads"))
