"""What the read-model API asks: one record or a page of them, read in one short transaction."""

import datetime as dt
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.backbone.rest import found
from shared.events.orders import ServiceState
from services.projection.application import link_queries
from services.projection.adapters import (
    contract_history, contract_records, contracting_records, negotiation_records, service_contract_records,
)


async def contract(engine: AsyncEngine, contract_id: UUID) -> dict:
    """The record with its history of dates and terms and its phases 4-6 (approval, signature, order...)."""
    async with engine.connect() as conn:
        record = found(await contract_records.get(conn, contract_id), "contract", contract_id)
        row = await contracting_records.progress_of(conn, contract_id) or {}
        steps, signers = [], []
        if row.get("approval_round"):
            steps = await contracting_records.steps_of(conn, contract_id, row["approval_round"])
        if row.get("envelope_id"):
            signers = await contracting_records.signers_of(conn, row["envelope_id"])
        return {**record, "history": await contract_history.history_of(conn, contract_id),
                **progress_view(row or None, steps, signers), "links": await link_queries.links_view(conn, contract_id)}


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


def progress_view(row: dict | None, steps: list[dict], signers: list[dict]) -> dict[str, Any]:
    """The record's phase 4-6 fields from the progress row and the current round's / envelope's rows."""
    if row is None:
        return {}
    view: dict[str, Any] = {"service_contract_id": row["service_contract_id"]}
    if row["approval_round"] is not None:
        view["approval"] = {"round": row["approval_round"], "state": row["approval_state"],
                            "version_number": row["approval_version"], "approved_version": row["approved_version"],
                            "matrix_id": row["matrix_id"], "matrix_version": row["matrix_version"],
                            "since": row["approval_since"], "reason": row["approval_reason"], "steps": steps}
    if row["envelope_id"] is not None:
        view["signature"] = {"envelope_id": row["envelope_id"], "state": row["signature_state"],
                             "provider": row["signature_provider"], "provider_envelope_id": row["provider_envelope_id"],
                             "version_number": row["signature_version"], "deadline": row["signature_deadline"],
                             "since": row["signature_since"], "reason": row["signature_reason"], "signers": signers}
    if row["executed_version"] is not None:
        view["execution"] = {"version_number": row["executed_version"], "sha256": row["executed_sha256"],
                             "signed_document": row["signed_document"], "audit_certificate": row["audit_certificate"],
                             "executed_at": row["executed_at"]}
    if row["activation_state"] is not None:
        view["activation"] = {"state": row["activation_state"], "missing": row["activation_missing"] or [],
                              "at": row["activation_at"]}
    if row["order_id"] is not None:
        fallout = [{"order_line_id": line_id, **line} for line_id, line in sorted((row["order_fallout"] or {}).items())]
        view["order"] = {"order_id": row["order_id"], "state": row["order_state"], "since": row["order_since"],
                         "fallout": fallout}
    if row["reconciliation_state"] is not None:
        view["reconciliation"] = {"state": row["reconciliation_state"],
                                  "differences": row["reconciliation_differences"] or [],
                                  "since": row["reconciliation_since"]}
    return view
