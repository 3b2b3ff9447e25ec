"""The service contract read model on real PostgreSQL and Kafka: order sync's events, published
as CloudEvents or applied through the projector, give the contracts, lines, entitlements, sold
products and install base items the API shows; duplicates change nothing."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from shared.backbone.inbox import apply_batch
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.install_base import SoldProductSuspended
from shared.events.orders import (
    ContractLineActivated,
    ContractLineCanceled,
    ContractLineDatesChanged,
    ContractLineExpired,
    ContractLineRemoved,
    ContractLineResumed,
    ContractLineSuspended,
    ContractLineTerms,
    EntitlementActivated,
    EntitlementCanceled,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    EntitlementSuspended,
    EntitlementTerms,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)
from shared.events.envelope import Envelope
from shared.events.lifecycle import ExpiryScheduled
from services.projection.adapters import contract_records
from services.projection.adapters import service_contract_records as records
from services.projection.application.projector import CONSUMER_NAME, project
from tests.conftest import bearer, eventually, running_service
from tests.service_contract_story import Story, publish

pytestmark = pytest.mark.integration

READER = bearer("finance")


@pytest_asyncio.fixture(scope="module")
async def projection(service_env):
    async with running_service("projection", service_env("projection")) as client:
        yield client


async def _apply(client, envelopes: list[Envelope], times: int = 1) -> None:
    """Through the projector inside one unit of work, as the consumer calls it (without the inbox)."""
    async with UnitOfWork(client.app.state.context.engine) as uow:
        for envelope in envelopes:
            for _ in range(times):
                await project(uow, envelope)
        await uow.commit()


async def _get(client, path: str) -> dict:
    response = await client.get(f"/api/v1{path}", headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


def _duplicates_seen() -> float:
    return REGISTRY.get_sample_value("consumer_events_total", {"consumer": CONSUMER_NAME, "outcome": "duplicate"}) or 0.0


async def _assert_story_told(client, story: Story) -> None:
    L, E, sp, ib = story.lines, story.entitlements, str(story.sold_product_id), str(story.install_base_item_id)
    contract = await _get(client, f"/service-contracts/{story.contract_id}")
    assert {k: contract[k] for k in ("number", "account", "state", "state_since", "start_date", "end_date", "time_zone", "cancel_reason")} == {
        "number": f"SC-{story.contract_id.hex[:8]}", "account": story.account, "state": "expired", "state_since": "2027-04-01",
        "start_date": "2026-01-01", "end_date": "2027-03-31", "time_zone": "Europe/Berlin", "cancel_reason": None,
    }
    lines = {line["line_id"]: line for line in contract["lines"]}
    assert set(lines) == {str(L["support"]), str(L["added"])}  # the Draft "onsite" line was removed
    support, added = lines[str(L["support"])], lines[str(L["added"])]
    assert (support["state"], support["state_since"], support["quantity"], support["product"]) == (
        "expired", "2027-04-01", 5, "Premium support 24/7")
    assert Decimal(support["unit_price"]) == Decimal("1350.50")
    assert (support["sold_product_id"], support["end_date"], support["disconnected"]) == (sp, "2027-03-31", False)
    assert (added["state"], added["end_date"], added["disconnected"]) == ("expired", "2026-09-30", True)
    assert (added["sold_product_id"], added["install_base_item_id"]) == (None, ib)

    granted = {e["entitlement_id"]: e for e in contract["entitlements"]}
    assert set(granted) == {str(E["hotline"]), str(E["portal"]), str(E["spares"])}  # onsite-repair went with its line
    hotline, portal, spares = granted[str(E["hotline"])], granted[str(E["portal"])], granted[str(E["spares"])]
    assert (hotline["state"], hotline["state_since"], hotline["line_id"]) == ("expired", "2027-01-01", str(L["support"]))
    assert (portal["state"], portal["line_id"], portal["end_date"]) == ("expired", None, "2027-03-31")
    assert (portal["support_level"], portal["sla"], portal["features"], portal["usage_limit"], portal["usage_unit"]) == (
        "gold", "4h response", ["remote-diagnostics", "reports"], 10, "incidents")
    assert (spares["state"], spares["line_id"], spares["start_date"]) == ("expired", str(L["added"]), "2026-02-01")

    canceled = await _get(client, f"/service-contracts/{story.canceled_contract_id}")
    assert (canceled["state"], canceled["state_since"], canceled["cancel_reason"]) == ("canceled", "2025-12-15", "customer withdrew")
    assert [line["state"] for line in canceled["lines"]] == ["canceled"]
    assert [e["state"] for e in canceled["entitlements"]] == ["canceled"]

    sold = await _get(client, f"/sold-products/{sp}")
    assert {k: sold[k] for k in ("account", "product", "quantity", "state", "state_since", "suspension_reason")} == {
        "account": story.account, "product": "Robot cell KR-210", "quantity": 2, "state": "active",
        "state_since": "2026-03-15", "suspension_reason": None,
    }
    item = await _get(client, f"/install-base-items/{ib}")
    assert {k: item[k] for k in ("name", "site", "sold_product_id", "serial_number", "state", "state_since", "suspension_reason")} == {
        "name": "KR-210 #42", "site": "Plant 2", "sold_product_id": sp, "serial_number": "SN-0042", "state": "suspended",
        "state_since": "2026-06-01", "suspension_reason": "decommissioning",
    }


async def test_a_service_contract_life_published_on_kafka_reaches_the_read_model(projection, stack):
    story = Story(account=f"ACME Robotics {uuid.uuid4().hex[:6]}")
    envelopes = story.envelopes()
    duplicates_before = _duplicates_seen()
    await publish(stack.kafka_admin, envelopes)
    # The relay may resend what Kafka already had: the contract's activation and the product's
    # suspension again, after the contract expired and the product resumed.
    resent = [e for e in envelopes if isinstance(e.event, (ServiceContractActivated, SoldProductSuspended))]
    await publish(stack.kafka_admin, resent)

    async def told():
        await _assert_story_told(projection, story)
        return _duplicates_seen() >= duplicates_before + len(resent)

    await eventually(told, timeout=60)
    await _assert_story_told(projection, story)

    listed = await _get(projection, f"/service-contracts?account={story.account}")
    assert {c["contract_id"]: c["state"] for c in listed["items"]} == {
        str(story.contract_id): "expired", str(story.canceled_contract_id): "canceled"}


async def test_each_event_applied_twice_gives_the_same_read_model(projection):
    story = Story(account=f"Kuka Service {uuid.uuid4().hex[:6]}")
    envelopes = story.envelopes()
    await _apply(projection, envelopes, times=2)
    await _assert_story_told(projection, story)
    # Creations applied again at the end (drafted, line and entitlement added) overwrite nothing.
    creations = [e for e in envelopes if type(e.event).__name__.endswith(("Drafted", "Added", "Recorded"))]
    await _apply(projection, creations)
    await _assert_story_told(projection, story)


async def test_removing_a_line_removes_its_entitlements_and_unknown_children_are_ignored(projection):
    story = Story(account=f"Line removal {uuid.uuid4().hex[:6]}")
    drafted = story.contract()[0]
    assert isinstance(drafted, ServiceContractDrafted)
    c, L, E = story.contract_id, story.lines, story.entitlements
    await _apply(projection, [
        Envelope(drafted, 1),
        Envelope(ContractLineRemoved(contract_id=c, line_id=L["onsite"]), 2),  # no EntitlementRemoved follows
        Envelope(ContractLineExpired(contract_id=c, line_id=uuid.uuid4(), effective_on=dt.date(2026, 2, 1)), 3),
        Envelope(EntitlementRemoved(contract_id=c, entitlement_id=uuid.uuid4()), 4),
    ])
    contract = await _get(projection, f"/service-contracts/{c}")
    assert contract["state"] == "draft"
    assert [line["line_id"] for line in contract["lines"]] == [str(L["support"])]
    assert sorted(e["entitlement_id"] for e in contract["entitlements"]) == sorted([str(E["hotline"]), str(E["portal"])])
    assert all(e["state"] == "draft" for e in contract["lines"] + contract["entitlements"])
    # Its EntitlementRemoved arriving afterwards is harmless.
    await _apply(projection, [Envelope(EntitlementRemoved(contract_id=c, entitlement_id=E["onsite_repair"]), 5)])
    assert len((await _get(projection, f"/service-contracts/{c}"))["entitlements"]) == 2


async def test_service_contracts_filter_by_account_state_and_number_with_cursor_pages(projection):
    account, other = f"Filter {uuid.uuid4().hex[:6]}", f"Other {uuid.uuid4().hex[:6]}"
    recorded = [
        ServiceContractRecorded(contract_id=uuid.uuid4(), number=f"SC-F-{uuid.uuid4().hex[:8]}", account=account if i < 7 else other,
                                start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), time_zone="Europe/Vienna")
        for i in range(9)
    ]
    active = [r.contract_id for r in recorded[:3]]
    await _apply(projection, [Envelope(r, 1) for r in recorded]
                 + [Envelope(ServiceContractActivated(contract_id=cid, effective_on=dt.date(2026, 1, 1)), 2) for cid in active])

    pages, cursor = [], None
    while True:
        page = await _get(projection, f"/service-contracts?account={account}&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        pages.append([c["contract_id"] for c in page["items"]])
        if not (cursor := page["next_cursor"]):
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == sorted(str(r.contract_id) for r in recorded[:7])

    by_state = await _get(projection, f"/service-contracts?account={account}&state=active")
    assert sorted(c["contract_id"] for c in by_state["items"]) == sorted(map(str, active))
    assert all(c["state"] == "active" and c["state_since"] == "2026-01-01" for c in by_state["items"])
    assert (await _get(projection, f"/service-contracts?account={account}&state=canceled"))["items"] == []

    by_number = await _get(projection, f"/service-contracts?number={recorded[8].number}")
    assert [(c["contract_id"], c["account"], c["state"], c["time_zone"]) for c in by_number["items"]] == [
        (str(recorded[8].contract_id), other, "draft", "Europe/Vienna")]
    assert by_number["next_cursor"] is None

    invalid = await projection.get("/api/v1/service-contracts?state=dormant", headers=READER)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "state"


@pytest.mark.parametrize("path,rule", [
    ("/service-contracts/{id}", "service_contract.not_found"),
    ("/sold-products/{id}", "sold_product.not_found"),
    ("/install-base-items/{id}", "install_base_item.not_found"),
])
async def test_unknown_ids_are_404_problems(projection, path, rule):
    response = await projection.get("/api/v1" + path.format(id=uuid.uuid4()), headers=READER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["status"], response.json()["rule"]) == (404, rule)


@pytest.mark.parametrize("path", ["/service-contracts", "/service-contracts/{id}", "/sold-products/{id}", "/install-base-items/{id}"])
async def test_every_route_needs_a_token(projection, path):
    response = await projection.get("/api/v1" + path.format(id=uuid.uuid4()))
    assert response.status_code == 401
    assert response.json()["rule"] == "auth.token_missing"


async def test_any_role_may_read(projection):
    for role in ("sales", "legal_counsel", "asset_manager", "sre"):
        response = await projection.get("/api/v1/service-contracts?limit=1", headers=bearer(role))
        assert response.status_code == 200


def _wave(ids: dict[str, uuid.UUID]) -> tuple[list[Envelope], list[Envelope]]:
    """Two drafted contracts (a, b; lines l1, l2; entitlements e1, e2 each), then a run of mixed
    transitions: several rows, several transitions of one row, a cancel reason followed by another
    transition, and a line's date change (another handler) in the middle."""
    day = dt.date(2026, 1, 1)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    drafts = []
    for c in ("a", "b"):
        lines = [ContractLineTerms(line_id=ids[f"{c}l{i}"], product=f"Service {i}", quantity=1, unit_price=Decimal("10"),
                                   start_date=day, end_date=dt.date(2026, 12, 31), state=ServiceState.DRAFT) for i in (1, 2)]
        granted = [EntitlementTerms(entitlement_id=ids[f"{c}e{i}"], line_id=ids[f"{c}l{i}"], name=f"e{i}",
                                    start_date=day, end_date=dt.date(2026, 12, 31), state=ServiceState.DRAFT) for i in (1, 2)]
        drafts.append(Envelope(ServiceContractDrafted(
            contract_id=ids[c], number=f"SC-{ids[c].hex[:8]}", account="Wave", start_date=day,
            end_date=dt.date(2026, 12, 31), time_zone="UTC", lines=lines, entitlements=granted), 1, time=start))
    a, b = ids["a"], ids["b"]
    on = lambda n: day + dt.timedelta(days=n)  # noqa: E731
    events = [
        ServiceContractActivated(contract_id=a, effective_on=on(0)),
        ContractLineActivated(contract_id=a, line_id=ids["al1"], effective_on=on(0)),
        ContractLineActivated(contract_id=a, line_id=ids["al2"], effective_on=on(0)),
        EntitlementActivated(contract_id=a, entitlement_id=ids["ae1"], effective_on=on(0)),
        ServiceContractActivated(contract_id=b, effective_on=on(1)),
        ContractLineActivated(contract_id=b, line_id=ids["bl1"], effective_on=on(1)),
        ContractLineSuspended(contract_id=a, line_id=ids["al1"], effective_on=on(2)),
        EntitlementSuspended(contract_id=a, entitlement_id=ids["ae1"], effective_on=on(2)),
        ContractLineDatesChanged(contract_id=a, line_id=ids["al2"], start_date=day, end_date=dt.date(2027, 6, 30)),
        ContractLineResumed(contract_id=a, line_id=ids["al1"], effective_on=on(3), state=ServiceState.ACTIVE),
        EntitlementResumed(contract_id=a, entitlement_id=ids["ae1"], effective_on=on(3), state=ServiceState.ACTIVE),
        ServiceContractCanceled(contract_id=b, effective_on=on(4), reason="customer left"),
        ContractLineCanceled(contract_id=b, line_id=ids["bl1"], effective_on=on(4)),
        EntitlementCanceled(contract_id=b, entitlement_id=ids["be2"], effective_on=on(4)),
        ServiceContractExpired(contract_id=b, effective_on=on(5)),
        EntitlementExpired(contract_id=a, entitlement_id=ids["ae1"], effective_on=on(6)),
        ServiceContractExpired(contract_id=a, effective_on=on(6)),
    ]
    return drafts, [Envelope(e, v, time=start + dt.timedelta(minutes=v)) for v, e in enumerate(events, start=2)]


async def _rows_by_name(conn, ids: dict[str, uuid.UUID]) -> dict:
    """The read model's rows of the wave's contracts by (table, name), with ids replaced by their names."""
    names = {v: k for k, v in ids.items()}
    rows = {}
    for c in ("a", "b"):
        contract = await records.get_contract(conn, ids[c])
        parts = [("contract", "contract_id", contract), *(("line", "line_id", r) for r in contract.pop("lines")),
                 *(("entitlement", "entitlement_id", r) for r in contract.pop("entitlements"))]
        for table, key, row in parts:
            rows[(table, names[row[key]])] = {k: names.get(v, v) if isinstance(v, uuid.UUID) else v for k, v in row.items() if k != "number"}
    return rows


async def test_a_run_of_mixed_transitions_applied_together_gives_the_rows_of_applying_them_one_by_one(projection):
    names = ["a", "b", *(f"{c}{k}{i}" for c in "ab" for k in "le" for i in (1, 2))]
    one_by_one, together = ({n: uuid.uuid4() for n in names} for _ in range(2))
    engine = projection.app.state.context.engine

    drafts, wave = _wave(one_by_one)
    await _apply(projection, drafts + wave)
    drafts, wave = _wave(together)
    runs = project.runs(wave)
    assert [len(run.envelopes) for run in runs] == [8, 1, 8]  # the date change ends the first run
    await _apply(projection, drafts)
    offset = 10_000_000 + uuid.uuid4().int % 10_000_000
    applied = await apply_batch(engine, CONSUMER_NAME, [(e, "test.wave", 0, offset + i) for i, e in enumerate(wave)], project)
    assert all(applied)

    async with engine.connect() as conn:
        alone, batched = await _rows_by_name(conn, one_by_one), await _rows_by_name(conn, together)
    assert batched == alone
    assert (alone[("contract", "b")]["state"], alone[("contract", "b")]["cancel_reason"]) == ("expired", "customer left")
    assert (alone[("line", "al1")]["state"], alone[("line", "al1")]["state_since"]) == ("active", dt.date(2026, 1, 4))
    assert (alone[("line", "al2")]["state"], alone[("line", "al2")]["end_date"]) == ("active", dt.date(2027, 6, 30))
    assert alone[("entitlement", "ae1")]["state"] == "expired"
    assert alone[("entitlement", "be2")]["state"] == "canceled"


def _recorded_and_scheduled(ids: dict[str, uuid.UUID]) -> list[Envelope]:
    """Order sync's records of activated contracts (one recorded twice, a date change between) and
    the scheduler's expiries (one contract's twice, the later event first; one contract unknown so far)."""
    t = lambda minutes: dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)  # noqa: E731
    day, end = dt.date(2026, 3, 1), dt.date(2027, 2, 28)
    a, b, c = ids["a"], ids["b"], ids["c"]
    recorded = lambda contract_id, number: ServiceContractRecorded(  # noqa: E731
        contract_id=contract_id, number=number, account="Batch", start_date=day, end_date=end, time_zone="Europe/Vienna")
    scheduled = lambda contract_id, due: ExpiryScheduled(  # noqa: E731
        contract_id=contract_id, end_date=end, time_zone="Europe/Vienna", due_at=due)
    return [
        Envelope(recorded(a, "SC-A"), 1, time=t(0)),
        Envelope(recorded(b, "SC-B"), 1, time=t(1)),
        Envelope(ServiceContractDatesChanged(contract_id=a, start_date=day, end_date=dt.date(2027, 3, 31)), 2, time=t(2)),
        Envelope(recorded(a, "SC-A2"), 3, time=t(3)),
        Envelope(scheduled(a, t(10_000)), 1, time=t(9)),
        Envelope(scheduled(c, t(20_000)), 1, time=t(4)),
        Envelope(scheduled(a, t(30_000)), 2, time=t(5)),
    ]


async def test_runs_of_recorded_contracts_and_scheduled_expiries_give_the_rows_of_applying_them_one_by_one(projection):
    one_by_one, together = ({n: uuid.uuid4() for n in "abc"} for _ in range(2))
    engine = projection.app.state.context.engine
    await _apply(projection, _recorded_and_scheduled(one_by_one))
    events = _recorded_and_scheduled(together)
    assert [len(run.envelopes) for run in project.runs(events)] == [2, 1, 1, 3]
    offset = 20_000_000 + uuid.uuid4().int % 10_000_000
    assert all(await apply_batch(engine, CONSUMER_NAME, [(e, "test.recorded", 0, offset + i) for i, e in enumerate(events)], project))

    async def rows(conn, ids):
        names = {v: k for k, v in ids.items()}
        named = lambda row: {k: names.get(v, v) if isinstance(v, uuid.UUID) else v for k, v in (row or {}).items()}  # noqa: E731
        return ({n: named(await contract_records.get(conn, ids[n])) for n in "abc"},
                {n: named(await records.get_contract(conn, ids[n])) for n in "abc"})

    async with engine.connect() as conn:
        alone, batched = await rows(conn, one_by_one), await rows(conn, together)
    assert batched == alone
    shared, service = alone
    assert (shared["a"]["service_contract_number"], shared["a"]["expires_at"]) == ("SC-A2", dt.datetime(2026, 3, 21, 20, tzinfo=dt.UTC))
    assert shared["a"]["updated_at"] == dt.datetime(2026, 3, 1, 0, 9, tzinfo=dt.UTC)
    assert (shared["c"]["service_contract_number"], service["c"]) == (None, {})
    assert (service["a"]["number"], service["a"]["end_date"]) == ("SC-A", dt.date(2027, 3, 31))
