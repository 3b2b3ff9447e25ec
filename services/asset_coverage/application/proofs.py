"""Coverage proofs and the uncovered list, read from the coverage index: for an asset and a date,
which contracts cover it and why the others that link it do not, as known now or at a time."""

import datetime as dt
from dataclasses import dataclass

from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.application.following import coverage_index
from services.asset_coverage.domain.coverage import Linked, NotCovering, covered_until, why_not

MAX_ASSETS_PER_QUERY = 500


@dataclass(frozen=True)
class Proof:
    asset_id: str
    registered: bool
    on: dt.date
    known_at: dt.datetime | None
    links: list[tuple[Linked, NotCovering | None]]  # each link with why it does not cover (None: it covers)
    covered_until: dt.date | None


async def coverage_of(uow: UnitOfWork, asset_ids: list[str], on: dt.date,
                      known_at: dt.datetime | None = None) -> list[Proof]:
    """One proof per asset, in the order given; an unregistered asset is marked so, with what links it."""
    asset_ids = list(dict.fromkeys(asset_ids))
    async with uow:
        registered, linked = await coverage_index(uow).proof_facts(asset_ids, known_at)
    proofs = []
    for asset_id in asset_ids:
        links = sorted(linked[asset_id], key=lambda x: (x.contract.start_date, str(x.contract.contract_id)))
        proofs.append(Proof(asset_id, asset_id in registered, on, known_at,
                            [(x, why_not(x, on)) for x in links], covered_until(links, on)))
    return proofs


@dataclass(frozen=True)
class Uncovered:
    asset_id: str
    name: str
    kind: str
    site: str | None
    criticality: str
    covered_until: dt.date | None  # None: not covered on the date


async def uncovered_assets(uow: UnitOfWork, on: dt.date, *, criticality: str | None, lapsing_within_days: int,
                           after: str | None, limit: int) -> tuple[list[Uncovered], str | None]:
    """Assets (of the criticality given) not covered on `on`, or whose coverage ends within
    `lapsing_within_days` days (covered_until before on + N); and the cursor for the next page
    (the last asset id examined), None when every asset was examined."""
    horizon = on + dt.timedelta(days=lapsing_within_days)
    found: list[Uncovered] = []
    async with uow:
        index = coverage_index(uow)
        while len(found) < limit:
            batch = await index.assets(criticality=criticality, after=after, limit=MAX_ASSETS_PER_QUERY)
            if not batch:
                return found, None
            linked = await index.linked([a.asset_id for a in batch])
            for asset in batch:
                after = asset.asset_id
                until = covered_until(linked[asset.asset_id], on)
                if until is None or (lapsing_within_days and until < horizon):
                    found.append(Uncovered(asset.asset_id, asset.name, asset.kind, asset.site, asset.criticality, until))
                    if len(found) == limit:
                        break
            if len(batch) < MAX_ASSETS_PER_QUERY and len(found) < limit:
                return found, None
    return found, after
