"""REST resources of coverage proofs: /api/v1/assets/{id}/coverage, /api/v1/coverage-queries (up to
500 assets in one call, as a ticket or a work order asks) and /api/v1/uncovered-assets. Any role reads."""

import datetime as dt
import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import any_role
from shared.backbone.clock import today_in
from shared.backbone.errors import problem
from shared.backbone.rest import Date
from shared.events.assets import ASSET_ID_PATTERN, Criticality
from shared.events.coverage import ServiceLevel, WarrantyTerms
from services.asset_coverage.application import proofs
from services.asset_coverage.application.proofs import MAX_ASSETS_PER_QUERY
from services.asset_coverage.domain.coverage import NotCovering

router = APIRouter(tags=["coverage"], dependencies=[Depends(any_role)])

# An instant with its offset, as RFC 3339 writes it (a number or a zoneless time is not one).
INSTANT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"


def _instant(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(INSTANT_PATTERN, value) or isinstance(value, dt.datetime):
        return value
    raise ValueError(f"an instant as YYYY-MM-DDTHH:MM:SS with its offset (Z or +01:00), not {value!r}")


Instant = Annotated[dt.datetime, BeforeValidator(_instant), Field(json_schema_extra={"pattern": INSTANT_PATTERN})]
KnownAt = Annotated[Instant | None, Query(
    description="the answer as the log knew it at this instant (RFC 3339 with its offset; default: now)")]
On = Annotated[Date | None, Query(description="the date to prove coverage on (default: today, service clock)")]


class LinkDatesView(BaseModel):
    effective_from: dt.date | None
    effective_to: dt.date | None
    carried_from: UUID | None


class ContractCoverage(BaseModel):
    contract_id: UUID
    number: str | None
    name: str | None
    contract_model: str | None
    origin: str
    state: str
    start_date: dt.date
    end_date: dt.date
    canceled_on: dt.date | None
    link: LinkDatesView
    sla: ServiceLevel | None
    warranty: WarrantyTerms | None
    reason: NotCovering | None = Field(description="why it does not cover on the date; none when it covers")


class AssetCoverage(BaseModel):
    asset_id: str
    registered: bool = Field(description="false: no such asset is registered (its answer is empty)")
    on: dt.date
    known_at: dt.datetime
    covered: bool
    covered_until: dt.date | None = Field(description="last day of the coverage holding on `on` without a gap")
    covering: list[ContractCoverage]
    not_covering: list[ContractCoverage]

    @classmethod
    def of(cls, proof: proofs.Proof, known_at: dt.datetime) -> "AssetCoverage":
        views = [(_contract_view(linked, reason), reason) for linked, reason in proof.links]
        covering = [v for v, reason in views if reason is None]
        return cls(asset_id=proof.asset_id, registered=proof.registered, on=proof.on, known_at=known_at,
                   covered=bool(covering), covered_until=proof.covered_until, covering=covering,
                   not_covering=[v for v, reason in views if reason is not None])


def _contract_view(linked, reason) -> ContractCoverage:
    c, link = linked.contract, linked.link
    return ContractCoverage(
        contract_id=c.contract_id, number=c.number, name=c.name, contract_model=c.contract_model, origin=c.origin,
        state=c.state, start_date=c.start_date, end_date=c.end_date, canceled_on=c.canceled_on,
        link=LinkDatesView(effective_from=link.effective_from, effective_to=link.effective_to,
                           carried_from=link.carried_from),
        sla=c.sla, warranty=c.warranty, reason=reason)


class CoverageQuery(BaseModel):
    asset_ids: list[Annotated[str, Field(pattern=ASSET_ID_PATTERN)]] = Field(min_length=1, max_length=MAX_ASSETS_PER_QUERY)
    on: Date | None = Field(default=None, description="default: today (service clock)")
    known_at: Instant | None = Field(default=None, description="the answer as known at this instant; default: now")


class CoverageAnswer(BaseModel):
    assets: list[AssetCoverage]


class UncoveredAsset(BaseModel):
    asset_id: str
    name: str
    kind: str
    site: str | None
    criticality: str
    covered_until: dt.date | None = Field(description="none: not covered on the date; else the day its coverage ends")


class UncoveredPage(BaseModel):
    items: list[UncoveredAsset]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; none on the last page")


def _when(ctx: ServiceContext, on: dt.date | None, known_at: dt.datetime | None) -> tuple[dt.date, dt.datetime | None, dt.datetime]:
    """The date and the instant asked (None: as known now, the current rows), and the instant to show."""
    return on or today_in(ctx.clock, "UTC"), known_at, known_at or ctx.clock.now()


@router.api_route("/assets/{asset_id:path}/coverage", methods=["PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE"],
                  include_in_schema=False)
async def coverage_is_read_only(asset_id: str, on: str | None = None, known_at: str | None = None) -> JSONResponse:
    """A proof is only read: without this route the asset routes' `{asset_id:path}` (registered after
    this router) would take a PUT here for an asset whose id ends in /coverage."""
    body = problem(405, "Request refused", "request.method_not_allowed", "a coverage proof is only read (GET)")
    return JSONResponse(body, status_code=405, headers={"Allow": "GET"}, media_type="application/problem+json")


@router.get("/assets/{asset_id:path}/coverage", response_model=AssetCoverage)
async def asset_coverage(asset_id: str, ctx: Annotated[ServiceContext, Depends(context)], on: On = None,
                         known_at: KnownAt = None) -> AssetCoverage:
    """Which contracts cover the asset on the date (with SLA and warranty) and why those that link it do not."""
    day, asked, shown = _when(ctx, on, known_at)
    [proof] = await proofs.coverage_of(ctx.uow(), [asset_id], day, asked)
    return AssetCoverage.of(proof, shown)


@router.post("/coverage-queries", response_model=CoverageAnswer)
async def coverage_query(body: CoverageQuery, ctx: Annotated[ServiceContext, Depends(context)]) -> CoverageAnswer:
    """The proof for each of up to 500 assets in one call; an unknown asset is answered `registered: false`."""
    day, asked, shown = _when(ctx, body.on, body.known_at)
    return CoverageAnswer(assets=[AssetCoverage.of(p, shown) for p in await proofs.coverage_of(ctx.uow(), body.asset_ids, day, asked)])


@router.get("/uncovered-assets", response_model=UncoveredPage)
async def uncovered_assets(
    ctx: Annotated[ServiceContext, Depends(context)], on: On = None,
    criticality: Annotated[Criticality | None, Query(description="default: critical")] = "critical",
    lapsing_within_days: Annotated[int, Query(ge=0, le=3650, description="also those whose coverage ends within N days")] = 0,
    cursor: Annotated[str | None, Query(max_length=128, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UncoveredPage:
    """Assets of the criticality without active coverage on the date, or whose coverage ends within N days."""
    day = on or today_in(ctx.clock, "UTC")
    found, next_cursor = await proofs.uncovered_assets(ctx.uow(), day, criticality=criticality,
                                                  lapsing_within_days=lapsing_within_days, after=cursor, limit=limit)
    return UncoveredPage(items=[UncoveredAsset(**vars(u)) for u in found], next_cursor=next_cursor)
