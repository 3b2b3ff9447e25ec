"""The renewal calendar of the read model (phase 7): each contract's current period with its dates
(as clm computed them: the projection never does the arithmetic), the obligations with their
completed occurrences, and the calendar feeds that show them.

`contract_renewal_dates` is written by clm's contract stream (terms set, renewed, notice given,
reminder acknowledged: in order on their topic) and by the scheduler's `ContractExpired` (its own
column, `ended_at`): a row may be opened by either, so every period column is nullable and a
query asks for `period_end IS NOT NULL`. Obligations are stored, not expanded: occurrences are
expanded at query time (`Recurrence.occurrences`), so a feed shows the next ones however many
years later it is read. Calendar feeds are credentials, not history: the rebuild keeps them.
"""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone.calendar_feeds import feed_table
from services.projection.adapters.contract_records import contracts, metadata

renewal_dates = sa.Table(
    "contract_renewal_dates", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("period_number", sa.Integer),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("notice_deadline", sa.Date),
    sa.Column("cancel_by", sa.Date),
    sa.Column("renewal", sa.Text),  # tacit | express
    sa.Column("max_renewals", sa.Integer),  # none: unlimited
    sa.Column("renewals", sa.Integer),  # tacit renewals so far; none before the first
    sa.Column("owners", JSONB),
    sa.Column("reminder_offsets_days", JSONB),
    sa.Column("time_zone", sa.Text),
    sa.Column("termination_given_on", sa.Date),
    sa.Column("termination_end", sa.Date),
    sa.Column("acknowledged", JSONB),  # [{period_number, anchor}]
    sa.Column("ended_at", sa.DateTime(timezone=True)),  # ContractExpired
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),  # the latest event's time
    sa.Index("contract_renewal_dates_cancel_by", "cancel_by"),
    sa.Index("contract_renewal_dates_end", "period_end"),
)

obligations = sa.Table(
    "contract_obligations", metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owners", JSONB, nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("rrule", sa.Text),
    sa.Column("recurrence_start", sa.Date),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("source_clause", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("canceled_at", sa.DateTime(timezone=True)),
    sa.Index("contract_obligations_contract", "contract_id"),
)

completions = sa.Table(
    "contract_obligation_completions", metadata,
    sa.Column("obligation_id", sa.Uuid, primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("evidence", JSONB),
    sa.Column("completed_by", sa.Text, nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
)

feeds = feed_table(metadata)
# A user feed's roles as its creator held them then: `role:<name>` owners match them.
feeds.append_column(sa.Column("owner_roles", JSONB))


# --- writes (the handlers of application/renewal_projection.py) ---

async def merge_dates(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, **values) -> None:
    statement = insert(renewal_dates).values(contract_id=contract_id, changed_at=at, **values)
    updates = {**values, "changed_at": sa.func.greatest(renewal_dates.c.changed_at, statement.excluded.changed_at)}
    await conn.execute(statement.on_conflict_do_update(index_elements=[renewal_dates.c.contract_id], set_=updates))


async def acknowledge(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, period_number: int, anchor: str) -> None:
    """Adds {period_number, anchor} once (a redelivery or a second acknowledgement changes nothing)."""
    row = (await conn.execute(sa.select(renewal_dates.c.acknowledged).where(
        renewal_dates.c.contract_id == contract_id).with_for_update())).one_or_none()
    current = list(row.acknowledged or []) if row else []
    entry = {"period_number": period_number, "anchor": anchor}
    if entry not in current:
        await merge_dates(conn, contract_id, at, acknowledged=current + [entry])


async def record_obligation(conn: AsyncConnection, **values) -> None:
    await conn.execute(insert(obligations).values(**values).on_conflict_do_nothing())


async def cancel_obligation(conn: AsyncConnection, obligation_id: UUID, at: dt.datetime) -> None:
    await conn.execute(obligations.update().where(obligations.c.obligation_id == obligation_id,
                                                  obligations.c.canceled_at.is_(None)).values(canceled_at=at))


async def complete_occurrence(conn: AsyncConnection, **values) -> None:
    await conn.execute(insert(completions).values(**values).on_conflict_do_nothing())


async def clear(conn: AsyncConnection) -> None:
    """What the rebuild replays (the feeds stay: they are not events)."""
    await conn.execute(sa.text("TRUNCATE contract_renewal_dates, contract_obligations, contract_obligation_completions"))


# --- reads ---

def _acknowledged(row, anchor: str | None = None) -> bool:
    return any(a["period_number"] == row.period_number and (anchor is None or a["anchor"] == anchor)
               for a in row.acknowledged or [])


_LIVE = [renewal_dates.c.period_end.is_not(None), renewal_dates.c.ended_at.is_(None),
         sa.or_(contracts.c.state.is_(None), contracts.c.state.not_in(["expired", "canceled"]))]


def _with_contract():
    return (sa.select(renewal_dates, contracts.c.number, contracts.c.title, contracts.c.deal_size, contracts.c.currency)
            .select_from(renewal_dates.outerjoin(contracts, contracts.c.contract_id == renewal_dates.c.contract_id)))


async def renewals_pipeline(conn: AsyncConnection, today: dt.date, within_days: int, *,
                            limit: int | None = None) -> list[dict]:
    """One dict per (contract, anchor) of a current period whose date falls in [today, today + within_days],
    ordered by date (then contract and anchor): the shape the dashboard relies on."""
    until = today + dt.timedelta(days=within_days)
    rows = await conn.execute(_with_contract().where(*_LIVE, sa.or_(
        renewal_dates.c.cancel_by.between(today, until), renewal_dates.c.period_end.between(today, until))))
    found = []
    for row in rows:
        for anchor, day in (("cancel_by", row.cancel_by), ("end", row.period_end)):
            if today <= day <= until:
                found.append({
                    "contract_id": row.contract_id, "number": row.number, "title": row.title, "anchor": anchor,
                    "date": day, "period_number": row.period_number, "renewal": row.renewal,
                    "value": row.deal_size, "currency": row.currency, "acknowledged": _acknowledged(row, anchor),
                    "termination_given": row.termination_given_on is not None,
                })
    found.sort(key=lambda r: (r["date"], str(r["contract_id"]), r["anchor"]))
    return found[:limit] if limit is not None else found


AT_RISK_DAYS = 30


def renews_tacitly(row) -> bool:
    return row.renewal == "tacit" and (row.max_renewals is None or (row.renewals or 0) < row.max_renewals)


async def at_risk(conn: AsyncConnection, today: dt.date, *, limit: int) -> list[dict]:
    """Renewals nobody has taken in hand (docs/contracting/renewal_calendar.md, "At risk"):
    - a contract that would renew tacitly whose cancel-by is within 30 days or passed while its notice
      deadline has not, with no acknowledgement of the period and no termination notice;
    - one that ends at its period end (express, or tacit without renewals left) within 30 days, with no
      termination notice and no successor (a contract whose parent it is, not canceled)."""
    soon = today + dt.timedelta(days=AT_RISK_DAYS)
    successor = contracts.alias("successor")
    has_successor = sa.exists().where(successor.c.parent_id == renewal_dates.c.contract_id,
                                      sa.or_(successor.c.state.is_(None), successor.c.state != "canceled"))
    rows = await conn.execute(_with_contract().add_columns(has_successor.label("has_successor")).where(
        *_LIVE, renewal_dates.c.termination_given_on.is_(None),
        sa.or_(sa.and_(renewal_dates.c.cancel_by <= soon, renewal_dates.c.notice_deadline >= today),
               renewal_dates.c.period_end.between(today, soon))))
    found = []
    for row in rows:
        if renews_tacitly(row):
            if not (row.cancel_by <= soon and row.notice_deadline >= today) or _acknowledged(row):
                continue
            reason, decisive = ("cancel_by_passed" if row.cancel_by < today else "cancel_by_near"), row.notice_deadline
        else:
            if not (today <= row.period_end <= soon) or row.has_successor:
                continue
            reason, decisive = "ending_without_successor", row.period_end
        found.append({
            "contract_id": row.contract_id, "number": row.number, "title": row.title, "reason": reason,
            "renewal": row.renewal, "period_number": row.period_number, "cancel_by": row.cancel_by,
            "notice_deadline": row.notice_deadline, "end_date": row.period_end,
            "days_left": (decisive - today).days, "value": row.deal_size, "currency": row.currency,
            "owners": row.owners or [],
        })
    found.sort(key=lambda r: (r["notice_deadline"] if r["reason"] != "ending_without_successor" else r["end_date"],
                              str(r["contract_id"])))
    return found[:limit]


def _texts(values: list[str]):
    return sa.literal(list(values), ARRAY(sa.Text))


async def dates_of_contract(conn: AsyncConnection, contract_id: UUID):
    return (await conn.execute(_with_contract().where(renewal_dates.c.contract_id == contract_id,
                                                      renewal_dates.c.period_end.is_not(None)))).one_or_none()


async def dates_of_owners(conn: AsyncConnection, owners: list[str]) -> list:
    return list(await conn.execute(_with_contract().where(renewal_dates.c.period_end.is_not(None),
                                                          renewal_dates.c.owners.has_any(_texts(owners)))
                                   .order_by(renewal_dates.c.contract_id)))


async def obligations_of(conn: AsyncConnection, *, contract_id: UUID | None = None,
                         owners: list[str] | None = None) -> list:
    query = sa.select(obligations, contracts.c.number, contracts.c.title).select_from(
        obligations.outerjoin(contracts, contracts.c.contract_id == obligations.c.contract_id))
    if contract_id is not None:
        query = query.where(obligations.c.contract_id == contract_id)
    if owners is not None:
        query = query.where(obligations.c.owners.has_any(_texts(owners)))
    return list(await conn.execute(query.order_by(obligations.c.obligation_id)))


async def completions_of(conn: AsyncConnection, obligation_ids: list[UUID]) -> dict[tuple[UUID, dt.date], dt.datetime]:
    if not obligation_ids:
        return {}
    rows = await conn.execute(sa.select(completions.c.obligation_id, completions.c.due_on, completions.c.completed_at)
                              .where(completions.c.obligation_id.in_(obligation_ids)))
    return {(r.obligation_id, r.due_on): r.completed_at for r in rows}
