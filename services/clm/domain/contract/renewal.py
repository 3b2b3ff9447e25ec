"""Renewal terms on the contract (phase 7): set before activation (or derived from the executed
terms at it), the current period, tacit renewal once per period end, the termination notice and
the acknowledgement of renewal reminders. The dates are domain/renewal_terms.py's.

The interface others read: `renewal` (the RenewalTermsSet in force, None before), `current_period`,
`renewals`, `notice` (the TerminationNoticeGiven), `acknowledged` {(period, anchor): event}."""

import datetime as dt

from shared.backbone.aggregate import applies
from shared.backbone.errors import ConflictingState, invalid
from shared.events.renewal_terms import (
    ContractPeriod, ContractRenewed, ReminderAnchor, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet,
    TerminationNoticeGiven,
)
from services.clm.domain import rules
from services.clm.domain.contract.intake import TERMINAL
from services.clm.domain.contract.signature import Signing
from services.clm.domain.renewal_terms import Terms, derived_initial_term, initial_end, next_possible_end, period

ACTIVATION = "clm.activation"  # the set_by of terms derived from the executed terms
MAX_OFFSET_DAYS = 3660


def check_owners_and_offsets(terms: RenewalTerms) -> RenewalTerms:
    owners = [o.strip() for o in terms.owners]
    if any(not o or len(o) > 254 or (o.startswith("role:") and len(o) == 5) for o in owners):
        raise invalid(rules.RENEWAL_OWNERS_INVALID, "an owner is a user id, an e-mail address or role:<name>",
                      field="owners")
    offsets = terms.reminder_offsets_days
    if any(not 0 <= d <= MAX_OFFSET_DAYS for d in offsets):
        raise invalid(rules.RENEWAL_OFFSETS_INVALID, f"reminder offsets lie between 0 and {MAX_OFFSET_DAYS} days",
                      field="reminder_offsets_days")
    return terms.model_copy(update={"owners": list(dict.fromkeys(owners)),
                                    "reminder_offsets_days": sorted(set(offsets), reverse=True)})


class Renewing(Signing):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.renewal: RenewalTermsSet | None = None
        self.current_period: ContractPeriod | None = None
        self.renewals = 0
        self.notice: TerminationNoticeGiven | None = None
        self.acknowledged: dict[tuple[int, str], RenewalReminderAcknowledged] = {}

    @property
    def is_active(self) -> bool:
        return self.state == "active"  # Contract's ContractState (a StrEnum), set once activated

    @property
    def renewal_terms(self) -> Terms | None:
        return Terms.of(self.renewal.terms) if self.renewal else None

    def renewal_dates(self) -> tuple[dt.date, dt.date, str]:
        """The contract's dates (executed, else drafted), or a request's desired start and term."""
        if self.executed is not None or self.terms is not None:
            return self.contract_dates
        t = self.request_terms
        if t is None or t.desired_start_date is None or t.term_months is None:
            raise ConflictingState(rules.RENEWAL_DATES_UNKNOWN, "the contract has no dates yet: draft it, or give the "
                                   "request a desired start date and a term", field="start_date")
        start, end = self.drafting_dates(None)
        return start, end, t.time_zone or "UTC"

    # -- commands ---------------------------------------------------------------------------------

    def set_renewal_terms(self, terms: RenewalTerms | dict, *, by: str, at: dt.datetime) -> None:
        """By hand while the contract is not active (a request up to signed, or a drafted contract).
        `terms` may leave out initial_term (then the contract's start..end); the same terms again
        record nothing."""
        if self.is_active:
            raise ConflictingState(rules.RENEWAL_LOCKED_AFTER_ACTIVATION, "once out of Draft, renewal terms lock; "
                                   "change them by an amendment", field="state")
        if self.request_state is not None and self.request_state in TERMINAL:
            raise ConflictingState(rules.REQUEST_STATE_TERMINAL, f"the request is {self.request_state}", field="state")
        start, end, zone = self.renewal_dates()
        given = terms if isinstance(terms, dict) else terms.model_dump()
        if not given.get("initial_term"):
            given = {**given, "initial_term": derived_initial_term(start, end)}
        data = check_owners_and_offsets(RenewalTerms.model_validate(given))
        read = Terms.of(data)
        ends = initial_end(read, start)
        if ends != end:
            raise invalid(rules.RENEWAL_INITIAL_TERM_MISMATCH,
                          f"an initial term of {data.initial_term} from {start} ends on {ends or 'no calendar date'}, "
                          f"the contract on {end}", field="initial_term")
        if self.renewal is not None and (self.renewal.terms, self.renewal.start_date, self.renewal.time_zone) == (
                data, start, zone):
            return
        self._record_terms(data, start, zone, "manual", by, at)

    def _renewal_at_activation(self, at: dt.datetime | None) -> None:
        """After ContractActivatedV2: terms set by hand for other dates follow the executed dates;
        without terms, they are derived from the executed ones (tacit iff negotiated auto-renewal)."""
        if at is None:
            return
        start, end, zone = self.contract_dates
        if self.renewal is not None:
            if (self.renewal.start_date, self.renewal.time_zone, self.renewal.period.end_date) != (start, zone, end):
                self._record_terms(self.renewal.terms.model_copy(update={"initial_term": derived_initial_term(start, end)}),
                                   start, zone, "manual", self.renewal.set_by, at)
            return
        tacit = bool(self.negotiated_terms.auto_renewal)
        request = self.request_terms
        owner = self.assignment.assignee if self.assignment else None
        terms = RenewalTerms(
            initial_term=derived_initial_term(start, end),
            renewal_term=f"P{request.term_months}M" if tacit and request and request.term_months else None,
            renewal="tacit" if tacit else "express", notice_period="P0D", lead_time="P0D",
            owners=[owner or rules.RENEWAL_DEFAULT_OWNER])
        self._record_terms(terms, start, zone, "executed_terms", ACTIVATION, at)

    def _record_terms(self, terms: RenewalTerms, start: dt.date, zone: str, origin: str, by: str,
                      at: dt.datetime) -> None:
        self.record(RenewalTermsSet(contract_id=self.contract_uuid, terms=terms, start_date=start, time_zone=zone,
                                    period=period(Terms.of(terms), start, 1), origin=origin, set_by=by, at=at))

    def period_ended(self, number: int, *, at: dt.datetime) -> bool:
        """ContractPeriodEnded: the current period renews tacitly, once; anything else (another
        period, a notice, express terms, no renewals left, a redelivery) records nothing."""
        terms = self.renewal_terms
        current = self.current_period
        if terms is None or current is None or number != current.number or not terms.tacit:
            return False
        if self.notice is not None and self.notice.period_number == number:
            return False
        if terms.last_period is not None and number >= terms.last_period:
            return False
        try:
            following = period(terms, self.renewal.start_date, number + 1)
        except (OverflowError, ValueError):
            return False
        self.record(ContractRenewed(contract_id=self.contract_uuid, previous_end_date=current.end_date,
                                    period=following, renewals=self.renewals + 1, at=at))
        return True

    def give_termination_notice(self, *, given_on: dt.date, reason: str | None, by: str, at: dt.datetime) -> None:
        """On or before the current period's notice deadline (`given_on`: local today in the
        contract's zone): the contract ends at the period's end instead of renewing."""
        if not self.is_active:
            raise ConflictingState(rules.TERMINATION_NOT_ACTIVE, "notice is given on an active contract", field="state")
        current = self._require_terms()
        if self.notice is not None:
            raise ConflictingState(rules.TERMINATION_ALREADY_GIVEN,
                                   f"notice was given on {self.notice.given_on}; the contract ends on {self.notice.end_date}",
                                   field="termination_notice")
        if given_on > current.notice_deadline:
            later = next_possible_end(self.renewal_terms, self.renewal.start_date, current.number, given_on)
            raise ConflictingState(
                rules.TERMINATION_AFTER_NOTICE_DEADLINE,
                f"the notice deadline of the period ending {current.end_date} was {current.notice_deadline}; "
                + (f"a notice now ends the contract on {later.end_date} (deadline {later.notice_deadline})" if later
                   else "no later period end can be reached"),
                field="given_on", notice_deadline=current.notice_deadline.isoformat(),
                next_possible_end=later.end_date.isoformat() if later else None)
        self.record(TerminationNoticeGiven(contract_id=self.contract_uuid, period_number=current.number,
                                           given_on=given_on, end_date=current.end_date,
                                           reason=(reason or "").strip() or None, given_by=by, at=at))

    def acknowledge_reminder(self, *, period_number: int, anchor: ReminderAnchor, note: str | None, by: str,
                             at: dt.datetime) -> bool:
        """The reminders of a period's anchor stop; a second acknowledgement records nothing (False)."""
        current = self._require_terms()
        if not 1 <= period_number <= current.number:
            raise invalid(rules.REMINDER_PERIOD_UNKNOWN,
                          f"the contract is in period {current.number}; period {period_number} has no reminders",
                          field="period_number")
        if (period_number, anchor) in self.acknowledged:
            return False
        self.record(RenewalReminderAcknowledged(contract_id=self.contract_uuid, period_number=period_number,
                                                anchor=anchor, note=(note or "").strip() or None,
                                                acknowledged_by=by, at=at))
        return True

    def is_renewal_owner(self, subject: str, roles: frozenset[str]) -> bool:
        owners = {o.lower() for o in self.renewal.terms.owners} if self.renewal else set()
        return subject.lower() in owners or any(f"role:{r}".lower() in owners for r in roles)

    def _require_terms(self) -> ContractPeriod:
        if self.renewal is None or self.current_period is None:
            raise ConflictingState(rules.RENEWAL_TERMS_MISSING, "the contract has no renewal terms", field="renewal_terms")
        return self.current_period

    # -- what the events say -----------------------------------------------------------------------

    @applies
    def _on_renewal_terms_set(self, event: RenewalTermsSet) -> None:
        self.renewal = event
        self.current_period = event.period

    @applies
    def _on_contract_renewed(self, event: ContractRenewed) -> None:
        self.current_period = event.period
        self.renewals = event.renewals

    @applies
    def _on_termination_notice_given(self, event: TerminationNoticeGiven) -> None:
        self.notice = event

    @applies
    def _on_reminder_acknowledged(self, event: RenewalReminderAcknowledged) -> None:
        self.acknowledged[(event.period_number, event.anchor)] = event

