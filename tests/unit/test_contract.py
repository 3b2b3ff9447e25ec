"""The contract aggregate: drafting rules, activation, and state derived from events only."""

import datetime as dt
import uuid

import pytest

from services.clm.domain.contract import Contract, ContractState
from shared.backbone.errors import DomainError, RuleKind
from shared.events.activation import ContractActivatedV2
from shared.events.contracts import ContractActivated, ContractDrafted, Party

CUSTOMER = Party(role="customer", name="ACME Robotics")
VENDOR = Party(role="vendor", name="Servo Maintenance GmbH")


def terms(**overrides) -> dict:
    base = dict(
        number="CNT-2026-0001",
        title="Maintenance of line 4",
        contract_model="service_contract",
        parties=[CUSTOMER, VENDOR],
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
        time_zone="Europe/Berlin",
    )
    return base | overrides


def draft(contract_id: uuid.UUID | None = None, **overrides) -> Contract:
    return Contract.draft(contract_id or uuid.uuid4(), **terms(**overrides))


def test_drafting_records_contract_drafted_with_the_terms():
    contract_id = uuid.uuid4()
    contract = draft(contract_id)

    assert contract.id == str(contract_id)
    assert contract.state is ContractState.DRAFT
    assert contract.version == 1
    [event] = contract.pending_events
    assert event == ContractDrafted(contract_id=contract_id, **terms())
    assert contract.terms == event


def test_time_zone_defaults_to_utc():
    args = terms()
    del args["time_zone"]
    contract = Contract.draft(uuid.uuid4(), **args)
    assert contract.pending_events[0].time_zone == "UTC"


def test_a_one_day_contract_is_allowed():
    contract = draft(start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 3, 1))
    assert contract.state is ContractState.DRAFT


@pytest.mark.parametrize(
    "overrides, rule, field",
    [
        (dict(start_date=dt.date(2026, 6, 1), end_date=dt.date(2026, 5, 31)), "dates.end_before_start", "end_date"),
        (dict(parties=[VENDOR]), "contract.customer_required", "parties"),
        (dict(parties=[]), "contract.customer_required", "parties"),
        (dict(time_zone="Mars/Olympus_Mons"), "contract.time_zone_unknown", "time_zone"),
        (dict(time_zone="CET+1"), "contract.time_zone_unknown", "time_zone"),
        (dict(time_zone=""), "contract.time_zone_unknown", "time_zone"),
    ],
    ids=["end_before_start", "vendor_only", "no_parties", "unknown_zone", "not_iana", "empty_zone"],
)
def test_drafting_rules_refuse_with_the_named_rule_and_field(overrides, rule, field):
    with pytest.raises(DomainError) as refused:
        draft(**overrides)
    assert refused.value.rule == rule
    assert refused.value.field == field
    assert refused.value.kind == RuleKind.INVALID


def test_activation_from_draft_records_contract_activated_with_the_same_terms():
    contract_id = uuid.uuid4()
    contract = draft(contract_id)
    contract.activate()

    assert contract.state is ContractState.ACTIVE
    assert contract.version == 3
    drafted, activated, v2 = contract.pending_events
    assert isinstance(activated, ContractActivated)
    assert activated == ContractActivated(contract_id=contract_id, **terms())
    assert activated.model_dump() == drafted.model_dump()
    # then v2, for the consumers that moved: the same terms, no lines (drafted without a request)
    assert isinstance(v2, ContractActivatedV2) and v2.lines == [] and v2.entitlements == []
    assert v2.model_dump(include=set(drafted.model_dump())) == drafted.model_dump()


def test_activating_twice_is_refused_with_409_and_records_nothing():
    contract = draft()
    contract.activate()

    with pytest.raises(DomainError) as refused:
        contract.activate()

    assert refused.value.rule == "contract.activate_only_from_draft"
    assert refused.value.kind == RuleKind.CONFLICT
    assert contract.version == 3
    assert len(contract.pending_events) == 3


def test_a_contract_that_was_never_drafted_cannot_be_activated():
    contract = Contract(str(uuid.uuid4()))
    with pytest.raises(DomainError) as refused:
        contract.activate()
    assert refused.value.rule == "contract.activate_only_from_draft"
    assert contract.pending_events == []


@pytest.mark.parametrize("activate", [False, True], ids=["draft", "active"])
def test_rehydrating_from_the_recorded_events_gives_the_same_state_and_version(activate):
    contract = draft()
    if activate:
        contract.activate()

    again = Contract.rehydrate(contract.id, contract.pending_events)

    assert again.id == contract.id
    assert again.state == contract.state
    assert again.terms == contract.terms
    assert again.version == contract.version
    # nothing is pending after a reload: the events came from the store
    assert again.pending_events == []
    assert again.persisted_version == contract.version


def test_a_rehydrated_draft_can_be_activated_and_a_rehydrated_active_one_cannot():
    contract = draft()
    loaded = Contract.rehydrate(contract.id, contract.pending_events)
    loaded.activate()
    activated, v2 = loaded.pending_events
    assert activated.model_dump() == contract.terms.model_dump()
    assert loaded.persisted_version == 1 and loaded.version == 3

    active = Contract.rehydrate(contract.id, [*contract.pending_events, activated, v2])
    with pytest.raises(DomainError) as refused:
        active.activate()
    assert refused.value.rule == "contract.activate_only_from_draft"


def test_pending_events_and_persisted_version():
    contract = draft()
    assert contract.persisted_version == 0

    # a copy: callers cannot lose or inject events through it
    contract.pending_events.clear()
    assert len(contract.pending_events) == 1

    contract.mark_persisted()
    assert contract.pending_events == []
    assert contract.version == contract.persisted_version == 1

    contract.activate()
    assert [type(e) for e in contract.pending_events] == [ContractActivated, ContractActivatedV2]
    assert contract.persisted_version == 1
    assert contract.version == 3

    contract.mark_persisted()
    assert contract.persisted_version == 3


@pytest.mark.parametrize("start, end", [(dt.date(1, 1, 1), dt.date(2026, 1, 1)), (dt.date(2026, 1, 1), dt.date(9999, 12, 31))])
def test_dates_outside_the_plannable_calendar_are_refused(start, end):
    from services.clm.domain.contract import Contract
    from shared.events.contracts import Party

    with pytest.raises(DomainError) as refused:
        Contract.draft(uuid.uuid4(), number="N", title="T", contract_model="nda", parties=[Party(role="customer", name="C")],
                       start_date=start, end_date=end)
    assert refused.value.rule == "dates.out_of_range"
