"""Cycle-time analytics over HTTP (issue 14, part 5): /api/v1/analytics/{cycle-times, bottlenecks,
overridden-clauses}, JSON by default and CSV with `format=csv` or `Accept: text/csv` (for the
spreadsheets the numbers get pasted into). Any authenticated role. docs/contracting/analytics.md."""

import csv
import datetime as dt
import io
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.errors import invalid
from shared.backbone.rest import Date
from services.projection.application import analytics as queries

router = APIRouter(prefix="/analytics", tags=["analytics"], dependencies=[Depends(any_role)])

Phase = Literal["request", "drafting", "negotiation", "approval", "signature", "activation"]
Format = Annotated[Literal["json", "csv"] | None, Query(description="csv for a spreadsheet; also chosen by Accept: text/csv")]
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                      "description": "JSON, or CSV (one header line) with format=csv or Accept: text/csv"}}
RANGE_INVERTED = "analytics.range_inverted"


class CycleTime(BaseModel):
    phase: Phase
    group: str = Field(description="the template id, the classification or the month (YYYY-MM) grouped by; "
                                   "`all` when not grouped, `none` for contracts without one", examples=["standard"])
    label: str = Field(description="the template's kind for a template; else the group", examples=["msa"])
    contracts: int = Field(description="phases ended in the range (each contract once per phase)")
    p50_hours: float = Field(description="median duration, hours (percentile_cont, linear interpolation)")
    p90_hours: float


class WaitingContract(BaseModel):
    contract_id: UUID
    number: str | None
    title: str | None
    assignee: str | None
    assignee_role: str | None
    queue: str | None
    since: dt.datetime = Field(description="when it entered the phase")
    age_hours: float


class Bottleneck(BaseModel):
    phase: Phase
    open: int = Field(description="contracts in the phase now")
    oldest_since: dt.datetime | None
    median_age_hours: float | None
    longest_waiting: list[WaitingContract] = Field(description="the contracts waiting longest, oldest first")


class OverriddenClause(BaseModel):
    clause_key: str = Field(description="`term/<term>` or `heading/<heading, lower case>`", examples=["term/liability_cap"])
    kind: Literal["non_standard_clause", "term_changed"]
    label: str | None = Field(description="the term or the clause's heading", examples=["liability_cap"])
    deviations: int = Field(description="deviations flagged on it")
    contracts: int = Field(description="contracts with at least one")
    open: int = Field(description="of the deviations, those not cleared by a later version")


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A cell as a spreadsheet should read it: a text that a spreadsheet would take for a formula
    (a title is user input) starts with a quote (OWASP, CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(name: str, header: list[str], rows: list[dict]) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def cycle_times_csv(rows: list[dict]) -> Response:
    return _csv("cycle-times", list(CycleTime.model_fields), rows)


def bottlenecks_csv(rows: list[dict]) -> Response:
    """One line per waiting contract listed, with its phase's count and median age."""
    waiting = [{"phase": r["phase"], "open": r["open"], "median_age_hours": r["median_age_hours"], **w}
               for r in rows for w in r["longest_waiting"]]
    return _csv("bottlenecks", ["phase", "open", "median_age_hours", *WaitingContract.model_fields], waiting)


def overridden_clauses_csv(rows: list[dict]) -> Response:
    return _csv("overridden-clauses", list(OverriddenClause.model_fields), rows)


def _range(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and start > end:
        raise invalid(RANGE_INVERTED, "`from` is after `to`", field="from")


@router.get("/cycle-times", response_model=list[CycleTime], responses=CSV_RESPONSE)
async def get_cycle_times(
    request: Request, ctx: Annotated[ServiceContext, Depends(context)],
    from_: Annotated[Date | None, Query(alias="from", description="phases ended on or after this day (UTC)")] = None,
    to: Annotated[Date | None, Query(description="phases ended on or before this day (UTC)")] = None,
    group_by: Annotated[Literal["template", "classification", "month"] | None,
                        Query(description="per template, classification or month of the phase's end")] = None,
    format: Format = None,
):
    """p50 and p90 of each phase's duration, over the phases ended in the range (not those a
    cancellation ended), per group."""
    _range(from_, to)
    rows = await queries.cycle_times(ctx.engine, ended_from=from_, ended_to=to, group_by=group_by)
    return cycle_times_csv(rows) if _wants_csv(request, format) else rows


@router.get("/bottlenecks", response_model=list[Bottleneck], responses=CSV_RESPONSE)
async def get_bottlenecks(
    request: Request, ctx: Annotated[ServiceContext, Depends(context)],
    top: Annotated[int, Query(ge=1, le=100, description="how many of the longest waiting to list per phase")] = 5,
    format: Format = None,
):
    """Where contracts wait now: per phase, how many are in it, the oldest, the median age, and
    those waiting longest with their assignee. The CSV has one line per waiting contract listed."""
    rows = await queries.bottlenecks(ctx.engine, ctx.clock.now(), top=top)
    return bottlenecks_csv(rows) if _wants_csv(request, format) else rows


@router.get("/overridden-clauses", response_model=list[OverriddenClause], responses=CSV_RESPONSE)
async def get_overridden_clauses(
    request: Request, ctx: Annotated[ServiceContext, Depends(context)],
    from_: Annotated[Date | None, Query(alias="from", description="deviations flagged on or after this day (UTC)")] = None,
    to: Annotated[Date | None, Query(description="deviations flagged on or before this day (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="how many clauses, most deviated first")] = 20,
    format: Format = None,
):
    """The clauses and terms negotiation departs from most often (contract deviations flagged)."""
    _range(from_, to)
    rows = await queries.overridden_clauses(ctx.engine, flagged_from=from_, flagged_to=to, limit=limit)
    return overridden_clauses_csv(rows) if _wants_csv(request, format) else rows
