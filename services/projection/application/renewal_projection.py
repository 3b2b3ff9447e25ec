"""Renewal terms, periods and obligations (phase 7) into the renewal calendar
(adapters/renewal_calendar.py): clm's contract stream sets the current period (terms set, renewed),
the notice and the acknowledged reminders; the scheduler's ContractExpired ends it; clm's obligation
streams record obligations and their completed occurrences. Every write sets what the event says
(or adds once), so a redelivery and a rebuild give the same rows. A renewal also moves the shared
record's end date, with its history entry (the dates changed)."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired
from shared.events.obligations import ObligationCanceled, ObligationOccurrenceCompleted, ObligationRecorded
from shared.events.renewal_terms import (
    ContractPeriod, ContractRenewed, RenewalReminderAcknowledged, RenewalTermsSet, TerminationNoticeGiven,
)
from services.projection.adapters import contract_history as history
from services.projection.adapters import contract_records as records
from services.projection.adapters import renewal_calendar as calendar


def _period(period: ContractPeriod) -> dict:
    return {"period_number": period.number, "period_start": period.start_date, "period_end": period.end_date,
            "notice_deadline": period.notice_deadline, "cancel_by": period.cancel_by}


async def _terms_set(uow: UnitOfWork, envelope: Envelope) -> None:
    event: RenewalTermsSet = envelope.event
    terms = event.terms
    await calendar.merge_dates(
        uow.conn, event.contract_id, envelope.time, **_period(event.period), renewal=terms.renewal,
        max_renewals=terms.max_renewals, owners=terms.owners, reminder_offsets_days=terms.reminder_offsets_days,
        time_zone=event.time_zone)


async def _renewed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractRenewed = envelope.event
    await calendar.merge_dates(uow.conn, event.contract_id, envelope.time, **_period(event.period),
                               renewals=event.renewals, termination_given_on=None, termination_end=None)
    end = {"end_date": event.period.end_date}
    await history.record_changes(uow.conn, event.contract_id, envelope, end, unless_unset="start_date")
    await records.merge_contract(uow.conn, event.contract_id, envelope.time, **end)


async def _notice_given(uow: UnitOfWork, envelope: Envelope) -> None:
    event: TerminationNoticeGiven = envelope.event
    await calendar.merge_dates(uow.conn, event.contract_id, envelope.time, termination_given_on=event.given_on,
                               termination_end=event.end_date)


async def _acknowledged(uow: UnitOfWork, envelope: Envelope) -> None:
    event: RenewalReminderAcknowledged = envelope.event
    await calendar.acknowledge(uow.conn, event.contract_id, envelope.time, event.period_number, event.anchor)


async def _expired(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractExpired = envelope.event
    await calendar.merge_dates(uow.conn, event.contract_id, envelope.time, ended_at=event.expired_at)


async def _obligation_recorded(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ObligationRecorded = envelope.event
    await calendar.record_obligation(
        uow.conn, obligation_id=event.obligation_id, contract_id=event.contract_id, kind=event.kind,
        description=event.description, owners=event.owners, due_date=event.due_date,
        rrule=event.recurrence.rrule if event.recurrence else None,
        recurrence_start=event.recurrence.start if event.recurrence else None, time_zone=event.time_zone,
        source_clause=event.source_clause, recorded_at=event.at)


async def _obligation_canceled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ObligationCanceled = envelope.event
    await calendar.cancel_obligation(uow.conn, event.obligation_id, event.at)


async def _occurrence_completed(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ObligationOccurrenceCompleted = envelope.event
    await calendar.complete_occurrence(
        uow.conn, obligation_id=event.obligation_id, due_on=event.due_on, note=event.note,
        evidence=event.evidence.model_dump(mode="json") if event.evidence else None,
        completed_by=event.completed_by, completed_at=event.at)


HANDLERS: HandlerTable = {
    RenewalTermsSet: _terms_set,
    ContractRenewed: _renewed,
    TerminationNoticeGiven: _notice_given,
    RenewalReminderAcknowledged: _acknowledged,
    ContractExpired: _expired,
    ObligationRecorded: _obligation_recorded,
    ObligationCanceled: _obligation_canceled,
    ObligationOccurrenceCompleted: _occurrence_completed,
}
