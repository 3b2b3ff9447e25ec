"""The renewals pipeline and the renewals at risk (read model, any authenticated role): JSON, or CSV
for spreadsheets (`?format=csv` or `Accept: text/csv`): a header row, ISO dates, plain decimals."""

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from services.projection.application import renewal_queries

router = APIRouter(prefix="/renewals", tags=["renewal calendar"], dependencies=[Depends(any_role)])

Ctx = Annotated[ServiceContext, Depends(context)]
Format = Annotated[Literal["json", "csv"] | None, Query(description="csv also when the Accept header asks for text/csv")]
Bound = Annotated[int, Query(ge=1, le=2000, description="Most rows answered (`truncated` says when more matched)")]
BUCKETS = (30, 60, 90)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}


class PipelineRow(BaseModel):
    contract_id: UUID
    number: str | None
    title: str | None
    anchor: Literal["cancel_by", "end"]
    date: dt.date
    period_number: int
    renewal: Literal["tacit", "express"]
    value: Decimal | None = Field(description="the contract's deal size")
    currency: str | None
    acknowledged: bool = Field(description="someone acknowledged this anchor's reminders for the period")
    termination_given: bool


class Amount(BaseModel):
    currency: str | None
    amount: Decimal


class Bucket(BaseModel):
    within_days: int
    count: int = Field(description="dates (a contract's cancel-by and end date count apart)")
    contracts: int = Field(description="distinct contracts")
    value: list[Amount] = Field(description="the contracts' deal sizes, summed per currency (each contract once)")


class Pipeline(BaseModel):
    today: dt.date
    within_days: int
    buckets: list[Bucket] = Field(description="30, 60 and 90 days (those within `within_days`, and it)")
    items: list[PipelineRow]
    truncated: bool


class AtRiskRow(BaseModel):
    contract_id: UUID
    number: str | None
    title: str | None
    reason: Literal["cancel_by_near", "cancel_by_passed", "ending_without_successor"]
    renewal: Literal["tacit", "express"]
    period_number: int
    cancel_by: dt.date
    notice_deadline: dt.date
    end_date: dt.date
    days_left: int = Field(description="to the notice deadline (tacit), or to the end date")
    value: Decimal | None
    currency: str | None
    owners: list[str]


class AtRisk(BaseModel):
    today: dt.date
    items: list[AtRiskRow]
    truncated: bool


def _today(ctx: ServiceContext) -> dt.date:
    return ctx.clock.now().astimezone(dt.UTC).date()


def _wants_csv(format: str | None, request: Request) -> bool:
    return format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # no exponent
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


def csv_of(rows: list[dict], columns: list[str], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return Response(buffer.getvalue(), media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def buckets_of(rows: list[dict], today: dt.date, within_days: int) -> list[dict]:
    buckets = []
    for days in sorted({d for d in BUCKETS if d < within_days} | {within_days}):
        inside = [r for r in rows if r["date"] <= today + dt.timedelta(days=days)]
        values: dict[UUID, tuple[str | None, Decimal]] = {
            r["contract_id"]: (r["currency"], r["value"]) for r in inside if r["value"] is not None}
        sums: dict[str | None, Decimal] = defaultdict(Decimal)
        for currency, value in values.values():
            sums[currency] += value
        buckets.append({"within_days": days, "count": len(inside), "contracts": len({r["contract_id"] for r in inside}),
                        "value": [{"currency": c, "amount": a} for c, a in sorted(sums.items(), key=lambda i: i[0] or "")]})
    return buckets


@router.get("/pipeline", response_model=Pipeline, responses=CSV_RESPONSE)
async def pipeline(request: Request, ctx: Ctx,
                   within: Annotated[int, Query(ge=1, le=366, description="days ahead (30, 60 or 90 usually)")] = 90,
                   format: Format = None, limit: Bound = 1000):
    """Cancel-by and end dates of the contracts' current periods falling from today (UTC) to
    `within` days after it, ordered by date, with counts and values per 30/60/90 days."""
    today = _today(ctx)
    rows = await renewal_queries.pipeline(ctx.engine, today, within, limit + 1)
    truncated, rows = len(rows) > limit, rows[:limit]
    if _wants_csv(format, request):
        return csv_of(rows, list(PipelineRow.model_fields), f"renewals-pipeline-{today.isoformat()}.csv")
    return {"today": today, "within_days": within, "buckets": buckets_of(rows, today, within), "items": rows,
            "truncated": truncated}


@router.get("/at-risk", response_model=AtRisk, responses=CSV_RESPONSE)
async def renewals_at_risk(request: Request, ctx: Ctx, format: Format = None, limit: Bound = 1000):
    """Renewals nobody has taken in hand (docs/contracting/renewal_calendar.md, "At risk"): a contract
    renewing tacitly whose cancel-by is within 30 days or passed while its notice deadline has not,
    with no acknowledgement of the period and no notice; one ending at its period end within 30
    days without a notice or a successor. Most urgent first."""
    today = _today(ctx)
    rows = await renewal_queries.at_risk(ctx.engine, today, limit + 1)
    truncated, rows = len(rows) > limit, rows[:limit]
    if _wants_csv(format, request):
        return csv_of(rows, list(AtRiskRow.model_fields), f"renewals-at-risk-{today.isoformat()}.csv")
    return {"today": today, "items": rows, "truncated": truncated}
