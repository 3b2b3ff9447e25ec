"""Use cases of renewal terms (phase 7): set them before activation, give a termination notice,
acknowledge a period's reminders, and follow the scheduler's ContractPeriodEnded (consumer group
"clm-renewals"): a tacit renewal, once per period end. Each runs in one unit of work; the events
reach Kafka through the outbox (RenewalTermsSet, ContractRenewed, TerminationNoticeGiven and
RenewalReminderAcknowledged are what the scheduler's period timers and reminders follow)."""

from uuid import UUID

from shared.backbone.clock import today_in
from shared.backbone.errors import Forbidden
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contract_periods import ContractPeriodEnded
from shared.events.envelope import Envelope
from shared.events.renewal_terms import ReminderAnchor
from services.clm.application.contract_requests import commit
from services.clm.domain import rules
from services.clm.domain.contract import Contract

CONTRACT = "contract"
MANAGER = "contract_manager"


async def get_contract(uow: UnitOfWork, contract_id: UUID) -> Contract:
    async with uow:
        return await uow.require(Contract, str(contract_id), CONTRACT)


async def set_terms(uow: UnitOfWork, contract_id: UUID, terms: dict, *, by: str,
                    expected_version: int | None = None) -> Contract:
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT, expected_version)
        contract.set_renewal_terms(terms, by=by, at=uow.clock.now())
        await commit(uow)
        return contract


async def give_notice(uow: UnitOfWork, contract_id: UUID, *, reason: str | None, by: str,
                      expected_version: int | None = None) -> Contract:
    """Given today in the contract's zone (the refusal after the deadline names it)."""
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT, expected_version)
        zone = contract.renewal.time_zone if contract.renewal else "UTC"
        contract.give_termination_notice(given_on=today_in(uow.clock, zone), reason=reason, by=by,
                                         at=uow.clock.now())
        await commit(uow)
        return contract


async def acknowledge(uow: UnitOfWork, contract_id: UUID, *, period_number: int, anchor: ReminderAnchor,
                      note: str | None, by: str, roles: frozenset[str]) -> Contract:
    """By an owner of the terms (their id or e-mail, or role:<one of their roles>) or a contract
    manager; a second acknowledgement of the same period and anchor changes nothing."""
    async with uow:
        contract = await uow.require(Contract, str(contract_id), CONTRACT)
        if contract.renewal is not None and MANAGER not in roles and not contract.is_renewal_owner(by, roles):
            raise Forbidden(rules.REMINDER_NOT_OWNER, f"{by} is not among the owners of the renewal reminders "
                            f"({', '.join(contract.renewal.terms.owners)}) nor a contract manager", field="owners")
        if contract.acknowledge_reminder(period_number=period_number, anchor=anchor, note=note, by=by,
                                         at=uow.clock.now()):
            await commit(uow)
        return contract


async def period_ended(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractPeriodEnded (lifecycle_scheduler): the contract renews tacitly, once for that period."""
    event: ContractPeriodEnded = envelope.event
    contract = await uow.get(Contract, str(event.contract_id))
    if contract is None:
        return
    contract.period_ended(event.period_number, at=event.reached_at)
