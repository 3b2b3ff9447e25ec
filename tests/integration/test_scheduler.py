"""The scheduler's timers on real PostgreSQL and Kafka: each fires exactly once, with two
replicas sweeping at the same time, and a timer that fell due while it was down fires on return."""

import asyncio
import datetime as dt
from contextlib import AsyncExitStack

import pytest
import sqlalchemy as sa

from tests.conftest import bearer, eventually, running_service

pytestmark = pytest.mark.integration


async def _activated_contract(clm, end_date: str) -> str:
    body = {"title": "Timer", "parties": [{"role": "customer", "name": "ACME"}], "start_date": "2025-01-01", "end_date": end_date}
    contract_id = (await clm.post("/api/v1/contracts", json=body, headers=bearer("contract_manager"))).json()["contract_id"]
    assert (await clm.post(f"/api/v1/contracts/{contract_id}/activation", headers=bearer("contract_manager"))).status_code == 200
    return contract_id


async def _expired_events(engine, contract_id: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(
            sa.text("SELECT count(*) FROM events WHERE stream_id = :s AND event_type = 'ContractExpired'"), {"s": contract_id}
        )).scalar_one()


async def test_two_replicas_fire_a_due_timer_exactly_once(service_env):
    env = service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="true", SCHEDULER_TICK_SECONDS="0.05")
    async with AsyncExitStack() as stack:
        clm = await stack.enter_async_context(running_service("clm", service_env("clm")))
        one = await stack.enter_async_context(running_service("lifecycle_scheduler", env))
        two = await stack.enter_async_context(running_service("lifecycle_scheduler", env))
        contract_ids = [await _activated_contract(clm, "2030-03-31") for _ in range(5)]

        async def all_scheduled():
            for cid in contract_ids:
                r = await one.get(f"/api/v1/schedules/{cid}", headers=bearer("sre"))
                if r.status_code != 200:
                    return False
            return True

        await eventually(all_scheduled)
        engine = one.app.state.context.engine
        assert [await _expired_events(engine, c) for c in contract_ids] == [0] * 5

        past_due = dt.datetime(2030, 4, 1, 0, 0, 1, tzinfo=dt.UTC)
        one.app.state.context.clock.set(past_due)
        two.app.state.context.clock.set(past_due)

        async def all_expired():
            return all([await _expired_events(engine, c) for c in contract_ids])

        await eventually(all_expired)
        await asyncio.sleep(1.0)  # many more sweeps by both replicas
        assert [await _expired_events(engine, c) for c in contract_ids] == [1] * 5


async def test_a_timer_due_while_the_scheduler_was_down_fires_when_it_returns(service_env):
    env = service_env("lifecycle_scheduler", SCHEDULER_TICK_SECONDS="0.1")
    async with running_service("clm", service_env("clm")) as clm:
        # The scheduler is down: this contract's end date passes (it is already in the past).
        contract_id = await _activated_contract(clm, "2025-06-30")
        async with running_service("lifecycle_scheduler", env) as scheduler:
            engine = scheduler.app.state.context.engine

            async def expired():
                return await _expired_events(engine, contract_id) == 1

            await eventually(expired)
            schedule = (await scheduler.get(f"/api/v1/schedules/{contract_id}", headers=bearer("sre"))).json()
            assert schedule["expired"] and schedule["expires_at"] == "2025-07-01T00:00:00Z"


async def test_clock_cannot_be_moved_where_clock_control_is_off(service_env):
    async with running_service("lifecycle_scheduler", service_env("lifecycle_scheduler", ALLOW_CLOCK_CONTROL="false")) as scheduler:
        r = await scheduler.put("/api/v1/ops/clock", json={"now": "2031-01-01T00:00:00Z"}, headers=bearer("sre"))
        assert r.status_code == 409 and r.json()["rule"] == "clock.control_disabled"
        r = await scheduler.put("/api/v1/ops/clock", json={"now": "2031-01-01T00:00:00Z"}, headers=bearer("sales"))
        assert r.status_code == 403
        # One clock endpoint, the shared one: the scheduler's own /clock is gone.
        r = await scheduler.put("/api/v1/clock", json={"now": "2031-01-01T00:00:00Z"}, headers=bearer("sre"))
        assert r.status_code == 404
