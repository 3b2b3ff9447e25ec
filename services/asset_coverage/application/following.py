"""The query tables follow the aggregates in the same transaction (the inventory's asset and
contract lists, the coverage index), and so do lapses: every use case and handler that changes an
OperationalContract or an Asset ends with `commit(uow, today)` (or `save_coverage` inside a
consumer's unit of work, or once per batch in an import), which saves them as a set. After the index is saved, the assets whose
coverage may have changed are evaluated for `today`, and each whose status flips records
CoverageLapsed or CoverageRestored on its Asset (docs/design/operations.md, "Lapses")."""

import datetime as dt
from typing import Protocol
from uuid import UUID

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.assets import LapseReason
from services.asset_coverage.application.views import inventory
from services.asset_coverage.domain import coverage as rules_of_coverage
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.coverage import Linked
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.links import changes_of


class CoverageIndex(Protocol):
    """adapters.coverage_index.SqlCoverageIndex in the service, MemoryCoverageIndex in unit tests."""

    async def save_contract(self, contract: OperationalContract, *, contract_changed: bool, asset_ids: set[str],
                            at: dt.datetime | None = None) -> None: ...

    async def save_contracts(self, changes: list[tuple[OperationalContract, bool, set[str]]],
                             at: dt.datetime | None = None) -> None: ...

    async def save_asset(self, asset: Asset) -> None: ...

    async def save_assets(self, assets: list[Asset]) -> None: ...

    async def linked(self, asset_ids: list[str], known_at: dt.datetime | None = None) -> dict[str, list[Linked]]: ...

    async def proof_facts(self, asset_ids: list[str], known_at: dt.datetime | None = None,
                          ) -> tuple[set[str], dict[str, list[Linked]]]:
        """Which of the assets are registered, and `linked`: what a proof reads, at once."""

    async def assets_among(self, asset_ids: list[str]) -> dict: ...

    async def assets(self, *, kind: str | None = None, site: str | None = None, criticality: str | None = None,
                     after: str | None = None, limit: int = 500) -> list: ...


def coverage_index(uow: UnitOfWork) -> CoverageIndex:
    return uow.views.coverage


async def save_coverage(uow: UnitOfWork, today: dt.date) -> None:
    """Brings the index in line with the aggregates changed in this unit of work, then records the
    lapses and restorations it implies for `today`."""
    index = coverage_index(uow)
    causes: dict[str, set[UUID]] = {}
    changes = []
    for aggregate in uow.changed():
        if isinstance(aggregate, OperationalContract):
            contract_changed, asset_ids = changes_of(aggregate.pending_events)
            changes.append((aggregate, contract_changed, asset_ids))
            for asset_id in asset_ids | (set(aggregate.links) if contract_changed else set()):
                causes.setdefault(asset_id, set()).add(UUID(aggregate.id))
    await index.save_contracts(changes)  # a batch's contracts in a few statements
    await inventory(uow).save_contracts([contract for contract, _, _ in changes])
    # assets registered in this transaction are evaluated too
    await index.save_assets([a for a in uow.changed() if isinstance(a, Asset) and a.details is not None])
    await evaluate(uow, sorted(causes), today, causes)


async def evaluate(uow: UnitOfWork, asset_ids: list[str], today: dt.date,
                   causes: dict[str, set[UUID]] | None = None) -> int:
    """Records CoverageLapsed / CoverageRestored on each registered asset whose status differs from
    what the index says for `today`; how many flipped. Only those are read from the store. A lapse
    names the contract changed in this transaction (`causes`), else the one whose coverage ended last."""
    if not asset_ids:
        return 0
    index = coverage_index(uow)
    registered = await index.assets_among(asset_ids)
    linked = await index.linked(list(registered))
    flipped_assets = []
    for asset_id, row in registered.items():
        covering = rules_of_coverage.covering(linked[asset_id], today)
        if bool(covering) == row.covered:
            continue
        asset = await uow.get(Asset, asset_id)
        if asset is None:
            continue
        if covering:
            changed = asset.restore(today, sorted({c.contract.contract_id for c in covering}, key=str))
        else:
            changed = asset.lapse(today, *_lapse_cause(linked[asset_id], (causes or {}).get(asset_id, set()), today))
        if changed:
            flipped_assets.append(asset)
    await index.save_assets(flipped_assets)  # their rows say covered or not, as their events
    return len(flipped_assets)


def _lapse_cause(links: list[Linked], changed: set[UUID], today: dt.date) -> tuple[UUID | None, LapseReason]:
    unlinked = sorted(changed - {linked.contract.contract_id for linked in links}, key=str)
    if unlinked:
        return unlinked[0], "link_changed"
    of_changed = [linked for linked in links if linked.contract.contract_id in changed]
    return rules_of_coverage.last_cover(of_changed or links, today)


async def commit(uow: UnitOfWork, today: dt.date | None = None) -> None:
    """Saves the coverage index and records lapses for `today` (by default the transaction's date,
    UTC, when the caller has no service clock to ask), then commits."""
    await save_coverage(uow, today if today is not None else await transaction_date(uow))
    await uow.commit()


async def transaction_date(uow: UnitOfWork) -> dt.date:
    return (await coverage_index(uow).now()).astimezone(dt.UTC).date()
