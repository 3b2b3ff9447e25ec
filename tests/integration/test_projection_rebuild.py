"""The read models rebuilt from scratch (replaying the topics) equal the live ones: the shared
contract record (with requested contracts, a negotiation with comment threads, published
shuffled and duplicated, and a contract through approval, signature, activation, order and
reconciliation), and the service contracts with what they cover."""

import datetime as dt
import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa

from services.asset_coverage.application import following
from services.asset_coverage.domain.asset import Asset
from shared.events.assets import AssetDetails
from services.projection.adapters.contract_records import contract_assets, contracts
from services.projection.adapters.contracting_records import approval_steps, progress, signers
from services.projection.adapters.negotiation_records import contract_comment_threads, contract_deviations
from services.projection.adapters.service_contract_records import (
    contract_lines, entitlements, install_base_items, service_contracts, sold_products,
)
from services.projection.application.rebuild import rebuild
from shared.events.envelope import Envelope
from services.clm.domain.contract import QUOTE_NAMESPACE
from tests.conftest import bearer, eventually, running_service
from tests.contracting_story import ContractingStory
from tests.events_factory import approved_quote
from tests.negotiation_story import Negotiation
from tests.service_contract_story import Story, publish

pytestmark = pytest.mark.integration


async def _snapshot(engine, ids: list[uuid.UUID]) -> tuple[list, list, list]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(contracts).where(contracts.c.contract_id.in_(ids)).order_by(contracts.c.contract_id))).all()
        assets = (await conn.execute(
            sa.select(contract_assets).where(contract_assets.c.contract_id.in_(ids)).order_by(contract_assets.c.contract_id, contract_assets.c.asset_id)
        )).all()
        negotiation = [tuple(r) for table in (contract_deviations, contract_comment_threads, approval_steps, signers, progress)
                       for r in sorted(await conn.execute(sa.select(table).where(table.c.contract_id.in_(ids))), key=str)]
    return [tuple(r) for r in rows], [tuple(a) for a in assets], negotiation


async def _service_snapshot(engine, story: Story) -> dict[str, list]:
    """The rows of the story's service contracts, their lines and entitlements, and what they cover."""
    contract_ids = [story.contract_id, story.canceled_contract_id]
    queries = {
        "service_contracts": sa.select(service_contracts).where(service_contracts.c.contract_id.in_(contract_ids)),
        "contract_lines": sa.select(contract_lines).where(contract_lines.c.contract_id.in_(contract_ids)),
        "entitlements": sa.select(entitlements).where(entitlements.c.contract_id.in_(contract_ids)),
        "sold_products": sa.select(sold_products).where(sold_products.c.sold_product_id == story.sold_product_id),
        "install_base_items": sa.select(install_base_items)
        .where(install_base_items.c.install_base_item_id == story.install_base_item_id),
    }
    async with engine.connect() as conn:
        return {name: sorted(await conn.execute(q)) for name, q in queries.items()}


async def test_rebuilt_read_model_equals_the_live_one(service_env, stack):
    async with AsyncExitStack() as services:
        clm = await services.enter_async_context(running_service("clm", service_env("clm")))
        coverage = await services.enter_async_context(running_service("asset_coverage", service_env("asset_coverage")))
        await services.enter_async_context(running_service("lifecycle_scheduler", service_env("lifecycle_scheduler")))
        projection = await services.enter_async_context(running_service("projection", service_env("projection")))
        projection_engine = projection.app.state.context.engine
        story = Story(account="Rebuild Robotics")
        await publish(stack.kafka_admin, story.envelopes())
        contracting = ContractingStory()
        await publish(stack.kafka_admin, contracting.envelopes())

        async with coverage.app.state.context.uow() as uow:  # only registered assets are linked
            for n in range(0, 6, 2):
                if await uow.get(Asset, f"A-{n}") is None:
                    uow.add(Asset.register(f"A-{n}", AssetDetails(kind="plc", name="PLC")))
            await following.commit(uow, dt.date(2026, 1, 1))

        ids = []
        for i in range(6):
            body = {"title": f"Rebuild {i}", "parties": [{"role": "customer", "name": f"Customer {i}"}],
                    "start_date": "2026-01-01", "end_date": "2027-12-31"}
            created = await clm.post("/api/v1/contracts", json=body, headers=bearer("contract_manager"))
            contract_id = uuid.UUID(created.json()["contract_id"])
            ids.append(contract_id)
            if i % 2 == 0:
                await clm.post(f"/api/v1/contracts/{contract_id}/activation", headers=bearer("sales_ops"))

                async def linked(cid=contract_id, n=i):
                    r = await coverage.post(f"/api/v1/contracts/{cid}/assets", json={"asset_id": f"A-{n}", "asset_name": "PLC"},
                                            headers=bearer("asset_manager"))
                    return r.status_code == 201

                await eventually(linked)

        requests = await _requests(clm, stack)
        negotiation = Negotiation()
        await publish(stack.kafka_admin, negotiation.scrambled())

        async def settled():
            rows, assets, _ = await _snapshot(projection_engine, ids)
            # A row opened by asset coverage's events before clm's arrive has no state yet: not settled.
            states = sorted(r.state or "" for r in (await _rows(projection_engine, ids)))
            service = await _service_snapshot(projection_engine, story)
            return len(rows) == 6 and len(assets) == 3 and states == ["active"] * 3 + ["draft"] * 3 and all(
                r.expires_at for r in await _rows(projection_engine, ids) if r.state == "active"
            ) and _story_settled(service) and await _requests_settled(projection_engine, requests) and (
                await _negotiation_settled(projection_engine, negotiation)) and (
                await _contracting_settled(projection_engine, contracting))

        await eventually(settled, timeout=60)
        ids += [*requests, negotiation.contract_id, contracting.contract_id]
        live = await _snapshot(projection_engine, ids)
        live_service = await _service_snapshot(projection_engine, story)
        assert [len(live_service[t]) for t in live_service] == [2, 3, 4, 1, 1]
        await services.aclose()  # the live consumer stops before a rebuild, as in operations

    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(service_env("projection")["DATABASE_URL"], connect_args={"server_settings": {"search_path": "projection"}})
    try:
        applied = await rebuild(engine, stack.kafka_for("projection"))  # its principal, a projection-rebuild-* group
        # drafts, activations, links, schedules, service records, the story, the requests' events, the negotiation
        assert applied >= 6 + 3 + 3 + 3 + 3 + len(story.envelopes()) + 3 + 7 + len(negotiation.envelopes()) + (
            len(contracting.envelopes()))
        # two deviations, two threads; two steps, two signers; the progress of the contracting story and
        # of the three contracts activated by hand (their ContractActivated v2)
        assert len(live[2]) == 4 + 2 + 2 + 1 + 3
        assert await _snapshot(engine, ids) == live
        assert await _service_snapshot(engine, story) == live_service
    finally:
        await engine.dispose()


async def _requests(clm, stack) -> dict[uuid.UUID, str]:
    """A request from an approved quote (taken into work), and a self-service one enriched,
    submitted, classified, assigned and cancelled: id -> the request state each ends in."""
    quote = approved_quote()
    from_quote = uuid.uuid5(QUOTE_NAMESPACE, str(quote.quote_id))
    await publish(stack.kafka_admin, [Envelope(quote, 1)])
    await eventually(lambda: _ok(clm.get(f"/api/v1/contract-requests/{from_quote}", headers=bearer("finance"))))
    assert (await clm.post(f"/api/v1/contract-requests/{from_quote}/work", headers=bearer("legal_counsel"))).status_code == 200

    self_service = uuid.uuid4()
    base = f"/api/v1/contract-requests/{self_service}"
    steps = [
        ("post", "/api/v1/contract-requests", {"contract_id": str(self_service), "title": "Rebuild request",
                                               "account": {"name": "Rebuild Robotics"}}),
        ("patch", base, {"currency": "EUR", "deal": {"region": "EU", "industry": "retail", "risk_tier": "low",
                                                     "data_residency": "EU"}}),
        ("post", f"{base}/submission", None),
        ("post", f"{base}/classification", {"classification": "non_standard"}),
        ("post", f"{base}/assignment", {"queue": "legal-emea"}),
        ("post", f"{base}/cancellation", {"reason": "duplicate"}),
    ]
    for method, path, body in steps:
        response = await clm.request(method, path, json=body, headers=bearer("contract_manager"))
        assert response.status_code in (200, 201), response.text
    return {from_quote: "work_in_progress", self_service: "cancelled"}


async def _ok(response) -> bool:
    return (await response).status_code == 200


async def _requests_settled(engine, requests: dict[uuid.UUID, str]) -> bool:
    rows = await _rows(engine, list(requests))
    return {r.contract_id: r.request_state for r in rows} == requests and all(r.classification for r in rows)


async def _negotiation_settled(engine, negotiation: Negotiation) -> bool:
    """Every event applied: the counts alone may be right early (a thread not yet seen at all)."""
    rows = await _rows(engine, [negotiation.contract_id])
    t, d = contract_comment_threads, contract_deviations
    async with engine.connect() as conn:
        threads = set(await conn.execute(sa.select(t.c.thread_id, t.c.is_open, t.c.status_version)
                                         .where(t.c.contract_id == negotiation.contract_id)))
        cleared = set(await conn.execute(sa.select(d.c.deviation_id, d.c.flagged_at.is_not(None), d.c.cleared_in_version)
                                         .where(d.c.contract_id == negotiation.contract_id)))
    return len(rows) == 1 and (rows[0].current_version_number, rows[0].open_deviations, rows[0].open_comments,
                               rows[0].payment_days, rows[0].governing_law) == (3, 1, 1, 45, "Austria") and (
        threads == {(negotiation.resolved_thread, False, 5), (negotiation.open_thread, True, 4)}) and (
        cleared == {(negotiation.open_deviation, True, None), (negotiation.cleared_deviation, True, 3)})


async def _contracting_settled(engine, story: ContractingStory) -> bool:
    """Each of its three streams reached its last event."""
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(progress).where(progress.c.contract_id == story.contract_id))).one_or_none()
    return row is not None and (row.activation_state, row.order_state, row.reconciliation_state) == (
        "activated", "fulfilled", "reconciled")


def _story_settled(service: dict[str, list]) -> bool:
    """Each stream of the story reached its last event: children all ended, product resumed, item moved and suspended."""
    children = service["contract_lines"] + service["entitlements"]
    return (
        sorted(r.state for r in service["service_contracts"]) == ["canceled", "expired"]
        and len(children) == 7 and all(r.state in ("expired", "canceled") for r in children)
        and [(r.state, r.state_since) for r in service["sold_products"]] == [("active", dt.date(2026, 3, 15))]
        and [(r.site, r.state) for r in service["install_base_items"]] == [("Plant 2", "suspended")]
    )


async def _rows(engine, ids):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(contracts).where(contracts.c.contract_id.in_(ids)))).all()
