"""Cycle-time analytics (issue 14, part 5): one row per (contract, phase) with when the contract
first entered the phase and when it last left it, and the queries the analytics API and the
dashboard read: p50/p90 per phase (by template, classification or month), the phases open now
(bottlenecks) and the clauses most often deviated from in negotiation.

Every boundary event comes on the contract's own stream (clm.contracts.v1, keyed by contract id),
so the rows are written in stream order: entering a phase closes whatever phase was open. A phase
entered again (a rejected approval round sends the contract back to negotiation, and a new round
re-enters approval) is reopened and keeps its first start: its time runs from the first entry to
the last exit. Template and classification are the contract record's current ones, joined when
queried, so a reclassification moves the contract's past phases with it. Times are the events'
own (envelope time), so a rebuild gives the same rows."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.contract_records import contracts, metadata
from services.projection.adapters.negotiation_records import contract_deviations

PHASES = ("request", "drafting", "negotiation", "approval", "signature", "activation")
GROUPINGS = ("template", "classification", "month")
UTC = "UTC"

phase_intervals = sa.Table(
    "contract_phase_intervals", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("phase", sa.Text, primary_key=True),  # one of PHASES
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),  # none: the contract is in this phase now
    sa.Column("canceled", sa.Boolean, nullable=False, server_default=sa.false()),  # ended by the request's cancellation
    sa.Index("contract_phase_intervals_open", "phase", postgresql_where=sa.text("ended_at IS NULL")),
)


async def enter(conn: AsyncConnection, contract_id: UUID, phase: str, at: dt.datetime) -> None:
    """The contract is in `phase` from `at`: the phase open before it ends there."""
    await conn.execute(phase_intervals.update().where(
        phase_intervals.c.contract_id == contract_id, phase_intervals.c.phase != phase,
        phase_intervals.c.ended_at.is_(None)).values(ended_at=at))
    statement = insert(phase_intervals).values(contract_id=contract_id, phase=phase, started_at=at)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[phase_intervals.c.contract_id, phase_intervals.c.phase],
        set_={"ended_at": None, "canceled": False}))


async def leave(conn: AsyncConnection, contract_id: UUID, phase: str, at: dt.datetime, *, canceled: bool = False) -> None:
    """The phase ends at `at` (when it is open), and no other begins."""
    await conn.execute(phase_intervals.update().where(
        phase_intervals.c.contract_id == contract_id, phase_intervals.c.phase == phase,
        phase_intervals.c.ended_at.is_(None)).values(ended_at=at, canceled=canceled))


async def cancel(conn: AsyncConnection, contract_id: UUID, at: dt.datetime) -> None:
    """The request was cancelled: its open phase ends, and counts in no cycle time."""
    await conn.execute(phase_intervals.update().where(
        phase_intervals.c.contract_id == contract_id, phase_intervals.c.ended_at.is_(None)
    ).values(ended_at=at, canceled=True))


async def intervals_of(conn: AsyncConnection, contract_id: UUID) -> list[dict]:
    rows = await conn.execute(sa.select(phase_intervals).where(phase_intervals.c.contract_id == contract_id))
    return sorted((dict(r) for r in rows.mappings()), key=lambda r: PHASES.index(r["phase"]))


async def clear(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("TRUNCATE contract_phase_intervals"))


def _hours(seconds) -> sa.ColumnElement:
    return sa.func.round(sa.cast(seconds / 3600.0, sa.Numeric), 3)


def _percentile(fraction: float, seconds: sa.ColumnElement) -> sa.ColumnElement:
    return _hours(sa.func.percentile_cont(fraction).within_group(seconds))


async def cycle_times(conn: AsyncConnection, *, ended_from: dt.date | None = None, ended_to: dt.date | None = None,
                      group_by: str | None = None) -> list[dict]:
    """p50 and p90 of each phase's duration (hours) over the phases ended (not by a cancellation)
    on days `ended_from`..`ended_to` (UTC, both included), per group. Phases in PHASES order."""
    p, c = phase_intervals.c, contracts.c
    ended_utc = sa.func.timezone(UTC, p.ended_at)
    groups = {"template": (sa.cast(c.template_id, sa.Text), c.template_kind),
              "classification": (c.classification, c.classification),
              "month": (sa.func.to_char(ended_utc, "YYYY-MM"),) * 2,
              None: (sa.literal("all"),) * 2}
    if group_by not in groups:
        raise ValueError(f"group_by is one of {GROUPINGS}")
    group, label = groups[group_by]
    ended = (
        sa.select(p.phase, group.label("group"), label.label("label"),
                  sa.func.extract("epoch", p.ended_at - p.started_at).label("seconds"))
        .select_from(phase_intervals.outerjoin(contracts, c.contract_id == p.contract_id))
        .where(p.ended_at.is_not(None), p.canceled.is_(False))
    )
    if ended_from is not None:
        ended = ended.where(sa.cast(ended_utc, sa.Date) >= ended_from)
    if ended_to is not None:
        ended = ended.where(sa.cast(ended_utc, sa.Date) <= ended_to)
    e = ended.subquery().c
    query = (sa.select(e.phase, e.group, sa.func.max(e.label).label("label"), sa.func.count().label("contracts"),
                       _percentile(0.5, e.seconds).label("p50_hours"), _percentile(0.9, e.seconds).label("p90_hours"))
             .group_by(e.phase, e.group))
    rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    for row in rows:
        row["group"] = row["group"] or "none"
        row["label"] = row["label"] or row["group"]
        row["p50_hours"], row["p90_hours"] = float(row["p50_hours"]), float(row["p90_hours"])
    return sorted(rows, key=lambda r: (PHASES.index(r["phase"]), r["group"]))


async def bottlenecks(conn: AsyncConnection, now: dt.datetime, *, top: int = 5) -> list[dict]:
    """Each phase with the contracts in it now: how many, since when the oldest, their median age
    (hours), and the `top` waiting longest with who they are assigned to."""
    p, c = phase_intervals.c, contracts.c
    at_now = sa.literal(now, sa.DateTime(timezone=True))
    age = sa.func.extract("epoch", at_now - p.started_at)
    open_now = (p.ended_at.is_(None), p.started_at <= at_now)  # entered by now: none with a negative age
    summary = {r["phase"]: dict(r) for r in (await conn.execute(
        sa.select(p.phase, sa.func.count().label("open"), sa.func.min(p.started_at).label("oldest_since"),
                  _percentile(0.5, age).label("median_age_hours"))
        .where(*open_now).group_by(p.phase))).mappings()}
    ranked = (
        sa.select(p.phase, p.contract_id, c.number, c.title, c.assignee, c.assignee_role, c.queue,
                  p.started_at.label("since"), _hours(age).label("age_hours"),
                  sa.func.row_number().over(partition_by=p.phase, order_by=(p.started_at, p.contract_id)).label("rank"))
        .select_from(phase_intervals.outerjoin(contracts, c.contract_id == p.contract_id))
        .where(*open_now)
    ).subquery()
    waiting: dict[str, list[dict]] = {}
    for row in (await conn.execute(sa.select(ranked).where(ranked.c.rank <= top).order_by(ranked.c.rank))).mappings():
        entry = {k: v for k, v in row.items() if k not in ("phase", "rank")}
        entry["age_hours"] = float(entry["age_hours"])
        waiting.setdefault(row["phase"], []).append(entry)
    result = []
    for phase in PHASES:
        found = summary.get(phase, {})
        median = found.get("median_age_hours")
        result.append({"phase": phase, "open": found.get("open", 0), "oldest_since": found.get("oldest_since"),
                       "median_age_hours": float(median) if median is not None else None,
                       "longest_waiting": waiting.get(phase, [])})
    return result


def clause_key() -> sa.ColumnElement:
    """clm's deviation key as far as the record has it (services/clm/domain/contract/negotiation.py
    deviation_key): the term, else the heading (or clause number), trimmed and in lower case."""
    d = contract_deviations.c
    return sa.case(
        (d.kind == "term_changed", sa.func.concat("term/", d.term)),
        else_=sa.func.concat("heading/", sa.func.lower(sa.func.btrim(sa.func.coalesce(d.heading, d.clause_number, "")))),
    )


async def overridden_clauses(conn: AsyncConnection, *, flagged_from: dt.date | None = None,
                             flagged_to: dt.date | None = None, limit: int = 20) -> list[dict]:
    """The clauses and terms most often deviated from: deviations flagged, contracts affected, still open."""
    d = contract_deviations.c
    flagged = (sa.select(clause_key().label("clause_key"), d.kind, sa.func.coalesce(d.term, d.heading, d.clause_number)
                         .label("label"), d.contract_id, d.cleared_at)
               .where(d.kind.is_not(None)))
    flagged_on = sa.cast(sa.func.timezone(UTC, d.flagged_at), sa.Date)
    if flagged_from is not None:
        flagged = flagged.where(flagged_on >= flagged_from)
    if flagged_to is not None:
        flagged = flagged.where(flagged_on <= flagged_to)
    f = flagged.subquery().c
    query = (
        sa.select(f.clause_key, sa.func.max(f.kind).label("kind"), sa.func.max(f.label).label("label"),
                  sa.func.count().label("deviations"), sa.func.count(sa.distinct(f.contract_id)).label("contracts"),
                  sa.func.count().filter(f.cleared_at.is_(None)).label("open"))
        .group_by(f.clause_key)
        .order_by(sa.desc("deviations"), sa.desc("contracts"), f.clause_key)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]
