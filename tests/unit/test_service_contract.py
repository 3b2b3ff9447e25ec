"""Commerce's service contract, recorded from an activated legal contract (Draft until its start date)."""

import datetime as dt
import uuid

from services.order_sync.domain.service_contract import ServiceContract
from shared.events.contracts import ContractActivated, Party
from shared.events.orders import ServiceContractRecorded


def activated(contract_id: uuid.UUID, parties: list[Party]) -> ContractActivated:
    return ContractActivated(
        contract_id=contract_id, number="CNT-2026-0042", title="Robot fleet service",
        contract_model="service_contract", parties=parties, start_date=dt.date(2026, 2, 1),
        end_date=dt.date(2027, 1, 31), time_zone="Europe/Berlin",
    )


def test_recorded_from_contract_activated_with_the_customer_as_account():
    contract_id = uuid.uuid4()
    # the customer is not the first party: the account must be the customer, not the vendor
    parties = [Party(role="vendor", name="Servo Maintenance GmbH"), Party(role="customer", name="ACME Robotics")]

    contract = ServiceContract.record_from(activated(contract_id, parties))

    assert contract.contract_id == contract_id
    assert contract.pending_events == [
        ServiceContractRecorded(
            contract_id=contract_id, number="CNT-2026-0042", account="ACME Robotics",
            start_date=dt.date(2026, 2, 1), end_date=dt.date(2027, 1, 31), time_zone="Europe/Berlin",
        )
    ]
    assert contract.account == "ACME Robotics"
    assert contract.number == "CNT-2026-0042"
    assert (contract.start_date, contract.end_date) == (dt.date(2026, 2, 1), dt.date(2027, 1, 31))
    assert contract.version == 1


def test_rehydrate_equals():
    contract = ServiceContract.record_from(activated(uuid.uuid4(), [Party(role="customer", name="Globex")]))

    loaded = ServiceContract.rehydrate(contract.id, contract.pending_events)

    assert (loaded.number, loaded.account, loaded.start_date, loaded.end_date) == (
        contract.number, contract.account, contract.start_date, contract.end_date,
    )
    assert loaded.version == 1 and loaded.pending_events == []


def test_a_draft_dated_outside_the_plannable_calendar_is_refused():
    import pytest

    from shared.backbone.errors import DomainError

    # 0001-01-01 00:00 UTC is datetime.min, which PostgreSQL would store as -infinity for its timers
    with pytest.raises(DomainError) as refused:
        ServiceContract.draft(uuid.uuid4(), number="SC-1", account="ACME", start_date=dt.date(1, 1, 1),
                              end_date=dt.date(2026, 1, 1))
    assert (refused.value.rule, refused.value.field) == ("dates.out_of_range", "end_date")
