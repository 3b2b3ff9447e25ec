"""An import job's work on the in-memory unit of work (application/imports.py): batches through the
registry use cases and link_asset, the job's counts after each batch, report rows for bad rows and
refusals of the aggregates, and a second run of the same rows recording nothing."""

import datetime as dt

from shared.backbone.memory import MemoryEventStore, MemoryUnitOfWork
from services.asset_coverage.adapters.memory_views import MemoryViews
from services.asset_coverage.application.imports import run_import
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.terms import vendor_contract_id


def rows(header, *data):
    return iter(enumerate([tuple(header), *map(tuple, data)], start=1))


async def run(store, kind, header, *data, batch_size=2):
    batches = []

    async def record_batch(uow, progress, problems):
        batches.append((vars(progress).copy(), [(p.row, p.column, p.reason) for p in problems]))

    total = await run_import(kind, rows(header, *data), lambda: MemoryUnitOfWork(store, views=MemoryViews), record_batch, batch_size,
                             lambda: False)
    return vars(total), batches


ASSETS = ["asset_id", "kind", "name"]
CONTRACTS = ["number", "vendor", "vendor_contract_number", "name", "contract_model", "start_date", "end_date"]


async def test_rows_commit_in_batches_and_the_counts_follow_each_batch():
    store = MemoryEventStore()
    total, batches = await run(store, "assets", ASSETS, ["R-1", "robot", "A"], [None, None, None],
                               ["R-2", "spaceship", "B"], ["R-3", "plc", "C"], ["R-1", "robot", "again"])
    assert total == {"rows_read": 4, "created": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    assert [b[0]["rows_read"] for b in batches] == [2, 4]  # the blank row 3 is skipped
    assert [p[:2] for p in batches[0][1]] == [(4, "kind")]
    assert batches[1][1] == [(6, "asset_id", "duplicate of row 2")]
    assert store.version("R-1") == store.version("R-3") == 1 and store.version("R-2") == 0


async def test_the_same_rows_again_record_nothing_and_a_changed_row_updates():
    store = MemoryEventStore()
    await run(store, "assets", ASSETS, ["R-1", "robot", "A"], ["R-2", "plc", "B"])
    total, _ = await run(store, "assets", ASSETS, ["R-1", "robot", "A"], ["R-2", "plc", "B"])
    assert (total["unchanged"], store.version("R-1"), store.version("R-2")) == (2, 1, 1)
    total, _ = await run(store, "assets", ASSETS, ["R-1", "robot", "A"], ["R-2", "plc", "B renamed"])
    assert (total["unchanged"], total["updated"], store.version("R-2")) == (1, 1, 2)


async def test_links_need_a_known_contract_and_asset():
    store = MemoryEventStore()
    await run(store, "assets", ASSETS, ["R-1", "robot", "Welder"])
    await run(store, "contracts", CONTRACTS, ["OPS-1", "KUKA", "K-1", "Care", "maintenance", "2026-01-01", "2026-12-31"])
    total, batches = await run(store, "links", ["vendor", "vendor_contract_number", "asset_id", "effective_from"],
                               ["KUKA", "K-1", "R-1", "2026-03-01"], ["KUKA", "K-1", "R-9", None],
                               ["ACME", "A-1", "R-1", None])
    assert (total["created"], total["rejected"]) == (1, 2)
    assert [p[:2] for b in batches for p in b[1]] == [(3, "asset_id"), (4, "vendor_contract_number")]
    async with MemoryUnitOfWork(store, views=MemoryViews) as uow:
        contract = await uow.get(OperationalContract, str(vendor_contract_id("kuka", "K-1")))
    assert contract.links["R-1"].asset_name == "Welder"
    assert contract.links["R-1"].effective_from == dt.date(2026, 3, 1)
