"""Rebuilds the coverage index from the event log: empties its tables and replays every contract and
asset stream through the same `save_contract` / `save_asset` the live path uses, each event at its
`recorded_at` (the transaction time the live path wrote as known_from), so the rebuilt rows are the
live ones. Run in one transaction that first locks the three tables against writes (EXCLUSIVE:
readers go on seeing the index as it was until the commit), in the order the live path writes
them (following.save_coverage: contract facts, link facts, assets; its events at the commit): a
live command or consumer writing them meanwhile waits for the rebuild instead of deadlocking."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.backbone import event_store
from services.asset_coverage.adapters.coverage_index import SqlCoverageIndex
from services.asset_coverage.adapters.coverage_tables import contract_facts, link_facts
from services.asset_coverage.adapters.inventory_index import asset_index
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.links import changes_of

CONTRACT_STREAM_TYPES = {OperationalContract.stream_type, "coverage"}  # streams written before vendor contracts
LOCK_ORDER = (contract_facts.name, link_facts.name, asset_index.name)  # as the live path writes them


async def rebuild_coverage_index(conn: AsyncConnection, batch: int = 1000) -> int:
    """Replays the log into empty index tables; how many events were replayed."""
    await conn.execute(sa.text(f"LOCK TABLE {', '.join(LOCK_ORDER)} IN EXCLUSIVE MODE"))
    for table in (link_facts, contract_facts, asset_index):
        await conn.execute(sa.delete(table))
    index = SqlCoverageIndex(conn)
    contracts: dict[str, OperationalContract] = {}
    assets: dict[str, Asset] = {}
    position = replayed = 0
    while records := await event_store.read_all(conn, position, batch):
        for r in records:
            position = r.position
            if r.stream_type in CONTRACT_STREAM_TYPES:
                contract = contracts.setdefault(r.stream_id, OperationalContract(r.stream_id))
                contract.record(r.event)
                contract_changed, asset_ids = changes_of(contract.pending_events)
                await index.save_contract(contract, contract_changed=contract_changed, asset_ids=asset_ids,
                                          at=r.recorded_at)
                contract.mark_persisted()
            elif r.stream_type == Asset.stream_type:
                asset = assets.setdefault(r.stream_id, Asset(r.stream_id))
                asset.record(r.event)
                asset.mark_persisted()
                await index.save_asset(asset)
            else:
                continue
            replayed += 1
    return replayed
