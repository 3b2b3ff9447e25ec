"""An import job's work: a spreadsheet's rows, read and validated off the event loop, committed in
batches through the same use cases as the API (registry.py; a contract's `link_asset`): each batch's
appends, its progress and its report rows in one transaction. Good rows are committed, bad rows
reported; an unchanged row records nothing, so importing a file again changes nothing."""

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterator

from shared.backbone.errors import ConcurrencyConflict, DomainError
from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.application import following, registry
from services.asset_coverage.domain.import_columns import ImportKind, map_header
from services.asset_coverage.domain.import_rows import (
    AssetRow, BatchProgress, ContractRow, Duplicates, LinkRow, Problem, RowReader, ValidRow,
)
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract

RecordBatch = Callable[[UnitOfWork, BatchProgress, list[Problem]], Awaitable[None]]
_ATTEMPTS = 3  # a batch meeting a concurrent write to one of its streams is read and applied again


class Interrupted(Exception):
    """The service is stopping: the job ends between two batches."""


@dataclass(frozen=True)
class ReadRow:
    number: int
    row: ValidRow | None
    problems: list[Problem]


def _blank(cells: tuple) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _take(rows: Iterator[tuple[int, tuple]], reader: RowReader, size: int) -> list[ReadRow]:
    """The next `size` non-blank rows, validated (runs in a worker thread)."""
    batch: list[ReadRow] = []
    for number, cells in rows:
        if _blank(cells):
            continue
        row, problems = reader.read(number, cells)
        batch.append(ReadRow(number, row, problems))
        if len(batch) >= size:
            break
    return batch


async def run_import(kind: ImportKind, rows: Iterator[tuple[int, tuple]], new_uow: Callable[[], UnitOfWork],
                     record_batch: RecordBatch, batch_size: int, stopping: Callable[[], bool]) -> BatchProgress:
    """Imports the rows (the header first); returns the final counts."""
    _, header = next(rows)
    reader = RowReader(kind, map_header(kind, list(header)))
    duplicates = Duplicates()
    total = BatchProgress()
    # The next batch is read while this one commits: parsing overlaps the database's round trips.
    reading = asyncio.ensure_future(asyncio.to_thread(_take, rows, reader, batch_size))
    try:
        while batch := await reading:
            reading = asyncio.ensure_future(asyncio.to_thread(_take, rows, reader, batch_size))
            if stopping():
                raise Interrupted()
            for attempt in range(1, _ATTEMPTS + 1):
                try:
                    progress = await _commit_batch(kind, batch, duplicates, new_uow(), total, record_batch)
                    break
                except ConcurrencyConflict:
                    if attempt == _ATTEMPTS:
                        raise
            total.add(progress)
    finally:
        await asyncio.gather(reading, return_exceptions=True)  # the sheet closes after its reader is done
    return total


async def _commit_batch(kind: ImportKind, batch: list[ReadRow], duplicates: Duplicates, uow: UnitOfWork,
                        total: BatchProgress, record_batch: RecordBatch) -> BatchProgress:
    progress = BatchProgress(rows_read=len(batch))
    problems: list[Problem] = []
    async with uow:
        await uow.prefetch([key for read in batch if read.row is not None for key in _streams_of(read.row)])
        for read in batch:
            found = read.problems or _duplicate(duplicates, read)
            if not found:
                try:
                    outcome = await _apply(uow, kind, read.row)
                    setattr(progress, outcome, getattr(progress, outcome) + 1)
                    continue
                except DomainError as refused:
                    found = [Problem(read.number, refused.field, refused.message)]
            progress.rejected += 1
            problems.extend(found)
        after = BatchProgress(**vars(total))
        after.add(progress)
        await record_batch(uow, after, problems)
        await following.commit(uow)  # the coverage index and the lapses the batch implies, once per batch
    return progress


def _streams_of(row: ValidRow) -> tuple[str, ...]:
    if isinstance(row, AssetRow):
        return (row.asset_id,)
    if isinstance(row, ContractRow):
        return (row.key,)
    return (str(row.contract), row.asset_id)


def _duplicate(duplicates: Duplicates, read: ReadRow) -> list[Problem]:
    problem = duplicates.problem(read.number, read.row)
    return [problem] if problem else []


async def _apply(uow: UnitOfWork, kind: ImportKind, row: ValidRow) -> registry.Outcome:
    if isinstance(row, AssetRow):
        return (await registry.register_asset_in(uow, row.asset_id, row.details))[1]
    if isinstance(row, ContractRow):
        return (await registry.register_vendor_contract_in(uow, row.terms, row.operational))[1]
    return await _link(uow, row)


async def _link(uow: UnitOfWork, row: LinkRow) -> registry.Outcome:
    contract = await uow.get(OperationalContract, str(row.contract))
    if contract is None:
        field = "contract_id" if row.contract_id else "vendor_contract_number"
        raise DomainError("link.contract_unknown", f"no contract {row.contract} here (import or register it first)",
                          field=field)
    asset = await uow.get(Asset, row.asset_id)
    if asset is None:
        raise DomainError("asset.unknown", f"no asset {row.asset_id} here (import or register it first)",
                          field="asset_id")
    was_linked = row.asset_id in contract.links
    changed = contract.link_asset(row.asset_id, row.asset_name or asset.details.name, row.effective_from,
                                  row.effective_to)
    if not changed:
        return "unchanged"
    return "updated" if was_linked else "created"
