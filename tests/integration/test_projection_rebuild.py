"""The shared read model rebuilt from scratch (replaying the topics) equals the live one."""

import uuid
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa

from services.projection.adapters.read_model import contract_assets, contracts
from services.projection.application.rebuild import rebuild
from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration


async def _snapshot(engine, ids: list[uuid.UUID]) -> tuple[list, list]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(contracts).where(contracts.c.contract_id.in_(ids)).order_by(contracts.c.contract_id))).all()
        assets = (await conn.execute(
            sa.select(contract_assets).where(contract_assets.c.contract_id.in_(ids)).order_by(contract_assets.c.contract_id, contract_assets.c.asset_id)
        )).all()
    return [tuple(r) for r in rows], [tuple(a) for a in assets]


async def test_rebuilt_read_model_equals_the_live_one(service_env, stack):
    async with AsyncExitStack() as services:
        clm = await services.enter_async_context(running_service("clm", service_env("clm")))
        coverage = await services.enter_async_context(running_service("asset_coverage", service_env("asset_coverage")))
        await services.enter_async_context(running_service("lifecycle_scheduler", service_env("lifecycle_scheduler")))
        projection = await services.enter_async_context(running_service("projection", service_env("projection")))
        projection_engine = projection.app.state.context.engine

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

        async def settled():
            rows, assets = await _snapshot(projection_engine, ids)
            states = sorted(r.state for r in (await _rows(projection_engine, ids)))
            return len(rows) == 6 and len(assets) == 3 and states == ["active"] * 3 + ["draft"] * 3 and all(
                r.expires_at for r in await _rows(projection_engine, ids) if r.state == "active")

        await eventually(settled, timeout=60)
        live = await _snapshot(projection_engine, ids)
        await services.aclose()  # the live consumer stops before a rebuild, as in operations

    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(service_env("projection")["DATABASE_URL"], connect_args={"server_settings": {"search_path": "projection"}})
    try:
        applied = await rebuild(engine, stack.kafka_bootstrap)
        assert applied >= 6 + 3 + 3 + 3 + 3  # drafts, activations, links, schedules, service records at least
        assert await _snapshot(engine, ids) == live
    finally:
        await engine.dispose()


async def _rows(engine, ids):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(contracts).where(contracts.c.contract_id.in_(ids)))).all()
