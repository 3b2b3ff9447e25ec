"""What the read model answers of links (phase 7): the record's links and the terms in force."""

import datetime as dt
from typing import Any, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.backbone.rest import found
from services.projection.adapters import contract_history, contract_links, contract_records
from services.projection.domain.terms_in_force import end_in_force
from services.projection.domain.terms_in_force import terms_in_force as apply_amendments


async def links_view(conn: AsyncConnection, contract_id: UUID) -> dict[str, Any]:
    link = await contract_links.link_of(conn, contract_id)
    amendments = await contract_links.linked_to(conn, [contract_id], "amendment")
    return {
        "relation": link["relation"] if link else None, "parent_id": link["parent_id"] if link else None,
        "effective_date": link["effective_date"] if link else None,
        "amendments": [{"contract_id": a["contract_id"], "effective_date": a["effective_date"],
                        "request_state": a["request_state"], "in_force": contract_links.in_force(a)} for a in amendments],
        "predecessor_id": link["parent_id"] if link and link["relation"] == "successor" else None,
        "successor_id": await contract_links.live_successor(conn, contract_id),
        "chain": await contract_links.chain_of(conn, contract_id),
    }


async def terms_in_force(engine: AsyncEngine, contract_id: UUID, as_of: dt.date | None,
                         today: Callable[[str | None], dt.date]) -> dict[str, Any]:
    async with engine.connect() as conn:
        record = found(await contract_records.get(conn, contract_id), "contract", contract_id)
        link = await contract_links.link_of(conn, contract_id)
        day = as_of or today(record["time_zone"])
        amendments = [{**a, "in_force": contract_links.in_force(a)}
                      for a in await contract_links.linked_to(conn, [contract_id], "amendment")]
        renewed = await contract_history.renewed_ends(conn, contract_id)
        record = {**record, "end_date": end_in_force(record["end_date"], renewed, day)}
        terms, applied = apply_amendments(record, amendments, day)
        return {"contract_id": contract_id, "as_of": day,
                "amends": link["parent_id"] if link and link["relation"] == "amendment" else None,
                "amendments_applied": applied,
                "terms": {name: {"value": value, "source": source} for name, (value, source) in terms.items()}}
