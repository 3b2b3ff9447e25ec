"""The notice obligation of a tacitly renewing contract (phase 7): deciding by the cancel-by date
whether to give notice is a duty like any other, so each period of a tacit contract carries a
`notice` obligation due on its cancel-by date, owned by the renewal terms' owners. A consumer of
clm's own contract events (`clm-notice-obligations`):

- RenewalTermsSet, tacit: the period's notice obligation (id from contract, period and cancel-by
  date, so terms set again with other dates replace it: the stale one is canceled); express: the
  contract's open notice obligations are canceled (an express contract ends unless renewed).
- ContractRenewed: the ended period's, if not completed, is canceled (the renewal settled it); the
  new period's is recorded, owned as the previous one was.
- TerminationNoticeGiven: notice was given, so the period's notice obligation is met (completed).
- RenewalReminderAcknowledged of the cancel-by date: an owner took the decision in hand, so the
  period's notice obligation is met too: one acknowledgement stops the reminders and the
  obligation's due and overdue notices alike, not two mails asking the same question."""

import datetime as dt
from uuid import UUID, uuid5

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.renewal_terms import (
    ContractPeriod, ContractRenewed, RenewalReminderAcknowledged, RenewalTermsSet, TerminationNoticeGiven,
)
from services.clm.adapters import obligation_index as index
from services.clm.domain.obligation import Obligation

BY = "clm.renewal_terms"


def notice_obligation_id(contract_id: UUID, period: ContractPeriod) -> UUID:
    return uuid5(contract_id, f"notice/{period.number}/{period.cancel_by}")


async def _open_notices(uow: UnitOfWork, contract_id: UUID) -> list[Obligation]:
    rows = await index.of_contract(uow.conn, contract_id, after=None, limit=500)
    found = []
    for row in rows:
        if row["kind"] == "notice" and row["origin"] == "executed_terms" and row["canceled_at"] is None:
            obligation = await uow.get(Obligation, str(row["obligation_id"]))
            uow.add(obligation)
            found.append(obligation)
    return found


async def _record(uow: UnitOfWork, contract_id: UUID, period: ContractPeriod, owners: list[str], time_zone: str,
                  at: dt.datetime) -> None:
    obligation_id = notice_obligation_id(contract_id, period)
    for stale in await _open_notices(uow, contract_id):
        if stale.obligation_id != obligation_id and stale.recorded.due_date >= period.start_date \
                and not stale.completed:
            stale.cancel(reason="the period's dates changed", by=BY, at=at)  # the same period, dated anew
            await index.save(uow.conn, stale)
    if await uow.get(Obligation, str(obligation_id)) is not None:
        return
    obligation = Obligation.record_new(
        obligation_id, contract_id=contract_id, kind="notice",
        description=(f"Decide on renewal of period {period.number}: give notice by {period.notice_deadline} "
                     f"or the contract renews after {period.end_date}"),
        owners=owners, due_date=period.cancel_by, recurrence=None, time_zone=time_zone, source_clause=None,
        origin="executed_terms", by=BY, at=at)
    uow.add(obligation)
    await index.save(uow.conn, obligation)


async def _terms_set(uow: UnitOfWork, envelope: Envelope) -> None:
    e: RenewalTermsSet = envelope.event
    if e.terms.renewal == "tacit":
        await _record(uow, e.contract_id, e.period, e.terms.owners, e.time_zone, e.at)
        return
    for open_notice in await _open_notices(uow, e.contract_id):
        if not open_notice.completed and open_notice.cancel(reason="the contract renews only expressly", by=BY, at=e.at):
            await index.save(uow.conn, open_notice)


async def _renewed(uow: UnitOfWork, envelope: Envelope) -> None:
    """The ended period's notice obligation, if nobody completed it, is settled by the renewal itself
    (canceled: no more overdue notices); the new period gets its own, owned as the last one."""
    e: ContractRenewed = envelope.event
    earlier = [o for o in await _open_notices(uow, e.contract_id) if o.recorded.due_date < e.period.start_date]
    if not earlier:
        return  # the contract had no notice obligation (renewal terms set before this consumer ran)
    for obligation in earlier:
        if not obligation.completed and obligation.cancel(reason=f"the contract renewed on {e.period.start_date}",
                                                          by=BY, at=e.at):
            await index.save(uow.conn, obligation)
    last = max(earlier, key=lambda o: o.recorded.due_date)
    await _record(uow, e.contract_id, e.period, last.recorded.owners, last.recorded.time_zone, e.at)


async def _notice_given(uow: UnitOfWork, envelope: Envelope) -> None:
    """The current period's notice obligation (the latest due by the end) is met."""
    e: TerminationNoticeGiven = envelope.event
    due = [o for o in await _open_notices(uow, e.contract_id) if o.recorded.due_date <= e.end_date]
    if not due:
        return
    obligation = max(due, key=lambda o: o.recorded.due_date)
    on = obligation.recorded.due_date
    if obligation.complete(on, note=f"termination notice given on {e.given_on}: the contract ends on {e.end_date}",
                           evidence=None, by=e.given_by, at=e.at):
        await index.save(uow.conn, obligation)


async def _cancel_by_acknowledged(uow: UnitOfWork, envelope: Envelope) -> None:
    e: RenewalReminderAcknowledged = envelope.event
    if e.anchor != "cancel_by":
        return
    for obligation in await _open_notices(uow, e.contract_id):
        due = obligation.recorded.due_date
        if obligation.obligation_id != uuid5(e.contract_id, f"notice/{e.period_number}/{due}"):
            continue
        note = f"acknowledged by {e.acknowledged_by}" + (f": {e.note}" if e.note else "")
        if obligation.complete(due, note=note, evidence=None, by=e.acknowledged_by, at=e.at):
            await index.save(uow.conn, obligation)


HANDLERS: HandlerTable = {
    RenewalReminderAcknowledged: _cancel_by_acknowledged,
    RenewalTermsSet: _terms_set,
    ContractRenewed: _renewed,
    TerminationNoticeGiven: _notice_given,
}
