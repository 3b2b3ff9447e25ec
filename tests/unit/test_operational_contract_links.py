"""An operational contract's links: the assets an active contract covers; linking is idempotent."""

import datetime as dt
import uuid

import pytest

from services.asset_coverage.domain.operational_contract import OperationalContract
from services.clm.domain.contract import Contract
from shared.events.contracts import ContractActivated, Party
from shared.events.coverage import AssetLinked, CoverageOpened

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _activated(contract_id: uuid.UUID) -> ContractActivated:
    return ContractActivated(contract_id=contract_id, number="CNT-1", title="Service agreement",
                             contract_model="service_contract", parties=[Party(role="customer", name="ACME")],
                             start_date=START, end_date=END, time_zone="UTC")


def _open(contract_id: uuid.UUID) -> OperationalContract:
    return OperationalContract.open_from_contracting(_activated(contract_id))


def _assets(contract: OperationalContract) -> dict[str, str]:
    return {asset_id: link.asset_name for asset_id, link in contract.links.items()}


def test_open_records_coverage_opened_with_the_dates():
    contract_id = uuid.uuid4()
    coverage = _open(contract_id)

    assert coverage.id == str(contract_id)
    assert (coverage.start_date, coverage.end_date) == (START, END)
    assert coverage.links == {} and coverage.origin == "contracting" and coverage.state == "active"
    assert coverage.pending_events == [CoverageOpened(contract_id=contract_id, start_date=START, end_date=END,
                                                      number="CNT-1", name="Service agreement",
                                                      contract_model="service_contract", time_zone="UTC")]
    assert coverage.version == 1


def test_linking_an_asset_records_asset_linked():
    contract_id = uuid.uuid4()
    coverage = _open(contract_id)

    assert coverage.link_asset("robot-7", "KUKA KR 210, cell 7") is True

    assert _assets(coverage) == {"robot-7": "KUKA KR 210, cell 7"}
    assert coverage.pending_events[-1] == AssetLinked(contract_id=contract_id, asset_id="robot-7", asset_name="KUKA KR 210, cell 7")
    assert coverage.version == 2


def test_linking_the_same_asset_twice_records_nothing_the_second_time():
    coverage = _open(uuid.uuid4())
    coverage.link_asset("robot-7", "KUKA KR 210, cell 7")

    assert coverage.link_asset("robot-7", "KUKA KR 210, cell 7") is False
    assert coverage.link_asset("robot-7", "renamed") is False

    assert [type(e) for e in coverage.pending_events] == [CoverageOpened, AssetLinked]
    assert coverage.version == 2
    assert _assets(coverage) == {"robot-7": "KUKA KR 210, cell 7"}


def test_a_retry_after_reload_records_nothing():
    coverage = _open(uuid.uuid4())
    coverage.link_asset("plc-1", "Siemens S7-1500")
    loaded = OperationalContract.rehydrate(coverage.id, coverage.pending_events)

    assert loaded.link_asset("plc-1", "Siemens S7-1500") is False
    assert loaded.pending_events == []
    assert loaded.link_asset("cnc-2", "DMG Mori NLX") is True
    assert loaded.persisted_version == 2 and loaded.version == 3


def test_rehydrate_equals():
    coverage = _open(uuid.uuid4())
    coverage.link_asset("robot-7", "KUKA KR 210, cell 7")
    coverage.link_asset("cnc-2", "DMG Mori NLX")

    loaded = OperationalContract.rehydrate(coverage.id, coverage.pending_events)

    assert loaded.id == coverage.id
    assert (loaded.start_date, loaded.end_date) == (START, END)
    assert _assets(loaded) == _assets(coverage)
    assert loaded.version == coverage.version == 3
    assert loaded.pending_events == []


def test_an_operational_contract_refuses_another_aggregates_event():
    """The aggregate base promises a TypeError for events an aggregate has no handler for, so a
    stream holding a foreign event fails loudly instead of silently changing the wrong aggregate.
    Contract (imported above) handles ContractActivated; OperationalContract does not."""
    assert Contract  # loaded in the same process, as in the projection or a test run
    contract_id = uuid.uuid4()
    foreign = _activated(contract_id)
    with pytest.raises(TypeError):
        OperationalContract.rehydrate(str(contract_id), [CoverageOpened(contract_id=contract_id, start_date=START, end_date=END), foreign])
