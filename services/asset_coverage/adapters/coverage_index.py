"""The coverage index in a unit of work's transaction (`uow.views.coverage`): link and contract
facts, each row known from the recorded time of the event that made it true (the transaction's
`now()`, which is the `recorded_at` of the events it appends) to that of the one that replaced it,
and the assets (the inventory's asset_index). memory_coverage_index.py is its twin for unit tests; rebuild.py replays the
log into empty tables through the same `save_contract` / `save_asset`."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from services.asset_coverage.adapters.coverage_tables import contract_facts, link_facts
from services.asset_coverage.adapters.inventory_index import SqlInventoryIndex, asset_index
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.coverage import ContractFact, LinkFact, Linked
from services.asset_coverage.domain.operational_contract import OperationalContract

LINK_COLUMNS = ("contract_id", "asset_id", "effective_from", "effective_to", "carried_from")
CONTRACT_COLUMNS = ("contract_id", "number", "name", "contract_model", "origin", "state", "start_date", "end_date",
                    "canceled_on", "sla", "warranty")


def contract_row(contract: OperationalContract) -> dict:
    operational = contract.operational
    return {
        "contract_id": UUID(contract.id), "number": contract.number, "name": contract.name,
        "contract_model": contract.contract_model, "origin": contract.origin or "contracting",
        "state": str(contract.state), "start_date": contract.start_date, "end_date": contract.end_date,
        "canceled_on": contract.canceled_on,
        "sla": operational.sla.model_dump(mode="json") if operational.sla else None,
        "warranty": operational.warranty.model_dump(mode="json") if operational.warranty else None,
    }


def link_rows(contract: OperationalContract, asset_ids: set[str]) -> list[dict]:
    return [
        {"contract_id": UUID(contract.id), "asset_id": link.asset_id, "effective_from": link.effective_from,
         "effective_to": link.effective_to, "carried_from": link.carried_from}
        for asset_id in sorted(asset_ids) if (link := contract.links.get(asset_id)) is not None
    ]


def linked_of(row) -> Linked:
    m = row._mapping if hasattr(row, "_mapping") else row
    return Linked(LinkFact(*(m[c] for c in LINK_COLUMNS)), ContractFact(*(m[c] for c in CONTRACT_COLUMNS)))


def _bitemporal(table: sa.Table, known_at: dt.datetime | None):
    if known_at is None:
        return table.c.known_to.is_(None)
    return sa.and_(table.c.known_from <= known_at, sa.or_(table.c.known_to.is_(None), table.c.known_to > known_at))


def linked_query(asset_ids: list[str], known_at: dt.datetime | None) -> sa.Select:
    return (
        sa.select(*(link_facts.c[c] for c in LINK_COLUMNS),
                  *(contract_facts.c[c] for c in CONTRACT_COLUMNS if c != "contract_id"))
        .join(contract_facts, contract_facts.c.contract_id == link_facts.c.contract_id)
        .where(link_facts.c.asset_id == sa.any_(sa.cast(list(asset_ids), ARRAY(sa.Text))),
               _bitemporal(link_facts, known_at), _bitemporal(contract_facts, known_at))
    )


class SqlCoverageIndex:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn
        self._now: dt.datetime | None = None

    async def now(self) -> dt.datetime:
        """The transaction's timestamp: the recorded_at of every event this transaction appends."""
        if self._now is None:
            self._now = (await self._conn.execute(sa.select(sa.func.now()))).scalar_one()
        return self._now

    async def save_contract(self, contract: OperationalContract, *, contract_changed: bool, asset_ids: set[str],
                            at: dt.datetime | None = None) -> None:
        await self.save_contracts([(contract, contract_changed, asset_ids)], at)

    async def save_contracts(self, changes: list[tuple[OperationalContract, bool, set[str]]],
                             at: dt.datetime | None = None) -> None:
        """Replaces the current facts of each contract (when it changed) and of its links to the asset
        ids given: those made true at this same instant are dropped, the others end at it. A batch
        (an import's 500 contracts) in three statements per table, not three per contract."""
        at = at or await self.now()
        changed = [contract for contract, contract_changed, _ in changes
                   if contract_changed and contract.start_date is not None]
        if changed:
            ids = [UUID(contract.id) for contract in changed]
            current = sa.and_(contract_facts.c.contract_id == sa.any_(sa.cast(ids, ARRAY(sa.Uuid))),
                              contract_facts.c.known_to.is_(None))
            await self._replace(contract_facts, current, at, [contract_row(contract) for contract in changed])
        linking = [(contract, asset_ids) for contract, _, asset_ids in changes if asset_ids]
        if len(linking) == 1:
            contract, asset_ids = linking[0]
            current = sa.and_(link_facts.c.contract_id == UUID(contract.id),
                              link_facts.c.asset_id == sa.any_(sa.cast(sorted(asset_ids), ARRAY(sa.Text))),
                              link_facts.c.known_to.is_(None))
            await self._replace(link_facts, current, at, link_rows(contract, asset_ids))
        elif linking:
            keys = [(UUID(contract.id), asset_id) for contract, asset_ids in linking for asset_id in sorted(asset_ids)]
            current = sa.and_(sa.tuple_(link_facts.c.contract_id, link_facts.c.asset_id).in_(keys),
                              link_facts.c.known_to.is_(None))
            await self._replace(link_facts, current, at,
                                [row for contract, asset_ids in linking for row in link_rows(contract, asset_ids)])

    async def _replace(self, table: sa.Table, current, at: dt.datetime, rows: list[dict]) -> None:
        await self._conn.execute(table.delete().where(current, table.c.known_from == at))
        await self._conn.execute(table.update().where(current).values(known_to=at))
        if rows:
            await self._conn.execute(table.insert(), [{**row, "known_from": at, "known_to": None} for row in rows])

    async def save_assets(self, assets: list[Asset]) -> None:
        """The assets' rows are the inventory's: one row per asset, whoever saves it."""
        await SqlInventoryIndex(self._conn).save_assets(assets)

    async def save_asset(self, asset: Asset) -> None:
        await self.save_assets([asset])

    async def linked(self, asset_ids: list[str], known_at: dt.datetime | None = None) -> dict[str, list[Linked]]:
        """Each asset's links with their contracts, as known now (None) or at `known_at`."""
        found: dict[str, list[Linked]] = {asset_id: [] for asset_id in asset_ids}
        for row in await self._conn.execute(linked_query(asset_ids, known_at)):
            found[row.asset_id].append(linked_of(row))
        return found

    async def proof_facts(self, asset_ids: list[str], known_at: dt.datetime | None = None,
                          ) -> tuple[set[str], dict[str, list[Linked]]]:
        """What a proof reads, in one query: which of the assets are registered, and `linked`."""
        asked = sa.func.unnest(sa.cast(list(asset_ids), ARRAY(sa.Text))).table_valued("asset_id").render_derived(name="asked")
        facts = link_facts.join(contract_facts, sa.and_(contract_facts.c.contract_id == link_facts.c.contract_id,
                                                        _bitemporal(contract_facts, known_at)))
        query = (
            sa.select(asked.c.asset_id.label("asked"), asset_index.c.asset_id.is_not(None).label("registered"),
                      *(link_facts.c[c] for c in LINK_COLUMNS),
                      *(contract_facts.c[c] for c in CONTRACT_COLUMNS if c != "contract_id"))
            .select_from(asked.outerjoin(asset_index, asset_index.c.asset_id == asked.c.asset_id)
                         .outerjoin(facts, sa.and_(link_facts.c.asset_id == asked.c.asset_id,
                                                   _bitemporal(link_facts, known_at))))
        )
        registered: set[str] = set()
        found: dict[str, list[Linked]] = {asset_id: [] for asset_id in asset_ids}
        for row in await self._conn.execute(query):
            if row.registered:
                registered.add(row.asked)
            if row.contract_id is not None:
                found[row.asked].append(linked_of(row))
        return registered, found

    async def assets_among(self, asset_ids: list[str]) -> dict:
        """The registered assets among `asset_ids`: id -> its row (name, kind, site, criticality, covered)."""
        query = sa.select(asset_index).where(asset_index.c.asset_id == sa.any_(sa.cast(list(asset_ids), ARRAY(sa.Text))))
        return {row.asset_id: row for row in await self._conn.execute(query)}

    async def assets(self, *, kind: str | None = None, site: str | None = None, criticality: str | None = None,
                     after: str | None = None, limit: int = 500) -> list:
        """Rows of the assets' copy matching every filter given, by asset id from after `after`."""
        c = asset_index.c
        query = sa.select(asset_index).order_by(c.asset_id).limit(limit)
        for column, value in ((c.kind, kind), (c.site, site), (c.criticality, criticality)):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(c.asset_id > after)
        return list(await self._conn.execute(query))
