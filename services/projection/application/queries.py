"""What the read-model API asks: one record or a page of them, read in one short transaction."""

import datetime as dt
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone.rest import found
from shared.events.orders import ServiceState
from services.projection.adapters import contract_history, contract_records, negotiation_records, service_contract_records


async def contract(engine: AsyncEngine, contract_id: UUID) -> dict:
    """The record with its history of dates and terms."""
    async with engine.connect() as conn:
        record = found(await contract_records.get(conn, contract_id), "contract", contract_id)
        return {**record, "history": await contract_history.history_of(conn, contract_id)}


async def contracts(
    engine: AsyncEngine, *, state: str | None, party: str | None, ends_before: dt.date | None, after: UUID | None, limit: int,
    request_state: str | None = None, classification: str | None = None, **filters: str | None,
) -> list[dict]:
    """`filters`: contract_origin, vendor, contract_model, asset_id (contract_records.search)."""
    async with engine.connect() as conn:
        return await contract_records.search(conn, state=state, party=party, ends_before=ends_before, after=after, limit=limit,
                                             request_state=request_state, classification=classification, **filters)


async def deviations(engine: AsyncEngine, contract_id: UUID, *, status: str | None, after: UUID | None,
                     limit: int) -> list[dict]:
    async with engine.connect() as conn:
        found(await contract_records.get(conn, contract_id), "contract", contract_id)
        return await negotiation_records.deviations(conn, contract_id, status=status, after=after, limit=limit)


async def service_contract(engine: AsyncEngine, contract_id: UUID) -> dict:
    async with engine.connect() as conn:
        return found(await service_contract_records.get_contract(conn, contract_id), "service_contract", contract_id)


async def service_contracts(
    engine: AsyncEngine, *, account: str | None, state: ServiceState | None, number: str | None, after: UUID | None, limit: int,
) -> list[dict]:
    async with engine.connect() as conn:
        return await service_contract_records.search_contracts(conn, account=account, state=state, number=number, after=after, limit=limit)


async def sold_product(engine: AsyncEngine, sold_product_id: UUID) -> dict:
    async with engine.connect() as conn:
        return found(await service_contract_records.get_sold_product(conn, sold_product_id), "sold_product", sold_product_id)


async def install_base_item(engine: AsyncEngine, item_id: UUID) -> dict:
    async with engine.connect() as conn:
        return found(await service_contract_records.get_install_base_item(conn, item_id), "install_base_item", item_id)
