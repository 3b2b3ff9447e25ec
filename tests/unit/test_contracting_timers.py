"""The scheduler's side of contracting's phases 4-6, pure: when an approval step's marks fall due,
the reminder sequence of a signer bounded by the envelope's deadline, the start of a contract's
start date in its zone (DST included), and that each is announced once
(services/lifecycle_scheduler/domain/approval_deadlines.py, signature_dates.py, contract_start.py)."""

import datetime as dt
import uuid

from services.lifecycle_scheduler.domain.approval_deadlines import ApprovalDeadlines, marks_of
from services.lifecycle_scheduler.domain.contract_start import ContractStart, start_instant
from services.lifecycle_scheduler.domain.signature_dates import (
    SignatureDates, latest_number, reminder_at, reminders,
)
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# -- approval SLAs -----------------------------------------------------------------------------


def test_a_level_warns_at_its_at_risk_point_and_escalates_at_its_deadline():
    assert marks_of(at(2031, 1, 2, 18), at(2031, 1, 3)) == {"at_risk": at(2031, 1, 2, 18), "deadline": at(2031, 1, 3)}


def test_a_warning_point_not_before_the_deadline_leaves_only_the_deadline():
    assert marks_of(at(2031, 1, 3), at(2031, 1, 3)) == {"deadline": at(2031, 1, 3)}
    assert marks_of(at(2031, 1, 4), at(2031, 1, 3)) == {"deadline": at(2031, 1, 3)}


def test_each_mark_of_each_level_is_announced_once_on_the_steps_stream():
    step, contract = uuid.uuid4(), uuid.uuid4()
    deadlines = ApprovalDeadlines.for_step(step)
    assert deadlines.step_id == step and deadlines.id != str(step)
    assert deadlines.reach(contract, 0, "at_risk", at(2031, 1, 2, 18), at(2031, 1, 3))
    assert not deadlines.reach(contract, 0, "at_risk", at(2031, 1, 2, 18), at(2031, 1, 3))
    assert deadlines.reach(contract, 0, "deadline", at(2031, 1, 3), at(2031, 1, 3))
    assert deadlines.reach(contract, 1, "at_risk", at(2031, 1, 4, 18), at(2031, 1, 5))
    warned, escalated, warned_again = deadlines.pending_events
    assert isinstance(warned, ApprovalStepAtRiskReached) and isinstance(escalated, ApprovalStepDeadlineReached)
    assert (warned.step_id, warned.contract_id, warned.level, warned.due_at, warned.reached_at) == (
        step, contract, 0, at(2031, 1, 3), at(2031, 1, 2, 18))
    assert (warned_again.level, warned_again.due_at) == (1, at(2031, 1, 5))
    again = ApprovalDeadlines.rehydrate(deadlines.id, deadlines.pending_events)
    assert not again.reach(contract, 0, "deadline", at(2031, 1, 3), at(2031, 1, 3))
    assert again.reach(contract, 1, "deadline", at(2031, 1, 5), at(2031, 1, 5))


# -- signature reminders and the deadline -------------------------------------------------------

INVITED = at(2031, 1, 1, 9, 30)


def test_reminders_repeat_every_n_days_from_the_invitation_and_stop_before_the_deadline():
    assert reminders(INVITED, 3, at(2031, 1, 12)) == [at(2031, 1, 4, 9, 30), at(2031, 1, 7, 9, 30), at(2031, 1, 10, 9, 30)]
    assert reminder_at(INVITED, 3, 4, at(2031, 1, 12)) is None


def test_no_reminder_falls_on_the_deadline_itself():
    assert reminders(INVITED, 2, at(2031, 1, 5, 9, 30)) == [at(2031, 1, 3, 9, 30)]
    assert reminders(INVITED, 7, at(2031, 1, 8, 9, 30)) == []


def test_a_late_sweep_sends_the_latest_reminder_due_not_each_one_missed():
    deadline = at(2031, 2, 1)
    assert latest_number(INVITED, 2, 1, deadline, at(2031, 1, 3, 9, 30)) == 1
    assert latest_number(INVITED, 2, 1, deadline, at(2031, 1, 8)) == 3  # 3rd, 5th, 7th: the 7th is the 3rd
    assert latest_number(INVITED, 2, 1, deadline, at(2031, 3, 1)) == 15  # the last before the deadline


def test_each_reminder_and_the_deadline_are_announced_once_on_the_envelopes_stream():
    envelope, contract, signer, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    dates = SignatureDates.for_envelope(envelope)
    assert dates.remind(contract, signer, 1, at(2031, 1, 4)) and not dates.remind(contract, signer, 1, at(2031, 1, 4))
    assert dates.remind(contract, other, 1, at(2031, 1, 4)) and dates.remind(contract, signer, 2, at(2031, 1, 7))
    assert dates.reach_deadline(contract, at(2031, 1, 12)) and not dates.reach_deadline(contract, at(2031, 1, 12))
    events = dates.pending_events
    assert [(e.event_type, getattr(e, "number", None)) for e in events] == [
        ("SignatureReminderDue", 1), ("SignatureReminderDue", 1), ("SignatureReminderDue", 2),
        ("SignatureDeadlineReached", None)]
    assert {e.envelope_id for e in events} == {envelope} and events[-1].deadline == at(2031, 1, 12)
    again = SignatureDates.rehydrate(dates.id, events)
    assert not again.remind(contract, other, 1, at(2031, 1, 4)) and not again.reach_deadline(contract, at(2031, 1, 12))


# -- contract start ------------------------------------------------------------------------------


def test_a_contract_starts_at_the_beginning_of_its_start_date_in_its_zone():
    assert start_instant(dt.date(2031, 1, 1), "Europe/Berlin") == at(2030, 12, 31, 23)
    assert start_instant(dt.date(2031, 7, 1), "Europe/Berlin") == at(2031, 6, 30, 22)
    assert start_instant(dt.date(2031, 7, 1), "UTC") == at(2031, 7, 1)


def test_a_start_on_a_dst_change_day_begins_at_that_days_first_instant():
    # America/Sao_Paulo skipped midnight (00:00 -> 01:00) on 2018-11-04: that day began at 01:00 -03.
    assert start_instant(dt.date(2018, 11, 4), "America/Sao_Paulo") == at(2018, 11, 4, 3)
    # America/Havana's 2031-11-02 has midnight twice (01:00 -> 00:00): the first one, at -04.
    assert start_instant(dt.date(2031, 11, 2), "America/Havana") == at(2031, 11, 2, 4)
    # New York's spring-forward day begins at -05, its day after at -04.
    assert start_instant(dt.date(2031, 3, 9), "America/New_York") == at(2031, 3, 9, 5)
    assert start_instant(dt.date(2031, 3, 10), "America/New_York") == at(2031, 3, 10, 4)


def test_a_contract_start_is_announced_once():
    contract = uuid.uuid4()
    start = ContractStart.for_contract(contract)
    assert start.id != str(contract)  # the legal contract's ContractSchedule has that stream
    assert start.reach(dt.date(2031, 1, 1), "Europe/Berlin") and not start.reach(dt.date(2031, 1, 1), "Europe/Berlin")
    (reached,) = start.pending_events
    assert (reached.contract_id, reached.start_date, reached.time_zone, reached.reached_at) == (
        contract, dt.date(2031, 1, 1), "Europe/Berlin", at(2030, 12, 31, 23))
    assert not ContractStart.rehydrate(start.id, start.pending_events).reach(dt.date(2031, 1, 1), "Europe/Berlin")


# -- approval notifications ----------------------------------------------------------------------


def test_approvers_are_addressed_by_role_or_user_id_each_once():
    from services.lifecycle_scheduler.application.approval_notifications import recipients_of
    from shared.events.approvals import Approver

    approvers = [Approver(kind="role", value="legal_counsel"), Approver(kind="user", value="u-42"),
                 Approver(kind="role", value="legal_counsel")]
    assert recipients_of(approvers) == ["role:legal_counsel", "u-42"]
