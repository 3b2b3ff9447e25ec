"""Drafting a requested contract from a template (phase 2): the dates, parties and variables follow
from the request; the clauses the template's selection chose (application/drafting.py runs it,
with the library it loads) become version 1. One commit: ContractDrafted v1 (as every consumer
reads it), ContractVersionAdded (version 1, generated) and the request's move to work."""

import datetime as dt

from dateutil.relativedelta import relativedelta

from shared.backbone.clock import EARLIEST_DATE, LATEST_DATE, is_plannable
from shared.backbone.errors import ConflictingState, invalid
from shared.events.contracts import ContractDrafted, Party
from shared.events.documents import DocumentRef
from shared.events.negotiation import ContractVersionAdded, NegotiatedTerms, TemplateUsed, VersionClause
from services.clm.domain import rules
from services.clm.domain.contract.intake import RequestState as S
from services.clm.domain.contract.negotiation import Negotiation

DRAFTABLE = frozenset({S.NEW, S.WORK_IN_PROGRESS})


class Drafting(Negotiation):
    def check_draftable(self) -> None:
        state = self._require_request()
        if self.versions or getattr(self, "terms", None) is not None:
            raise ConflictingState(rules.DRAFTING_ALREADY_DRAFTED, f"contract {self.id} is drafted already; "
                                   "add a version instead", field="contract_id")
        if state not in DRAFTABLE:
            raise ConflictingState(rules.DRAFTING_ONLY_FROM_NEW_OR_WORK,
                                   f"a request is drafted when new or in work, not {state}", field="state")

    def drafting_dates(self, start_date: dt.date | None) -> tuple[dt.date, dt.date]:
        """From the start given (else the desired one) for the request's term: the last day is the
        day before the same date `term_months` later."""
        start = start_date or self.request_terms.desired_start_date
        if start is None:
            raise invalid(rules.DRAFTING_START_DATE_MISSING,
                          "the request has no desired start date: give a start_date", field="start_date")
        months = self.request_terms.term_months
        if months is None:
            raise invalid(rules.DRAFTING_TERM_MISSING, "the request has no term: enrich it with term_months",
                          field="term_months")
        try:
            end = start + relativedelta(months=months) - dt.timedelta(days=1)
        except (OverflowError, ValueError):  # past year 9999
            end = dt.date.max
        for date in (start, end):
            if not is_plannable(date):
                raise invalid(rules.DATES_OUT_OF_RANGE, f"the term from {start} ends outside {EARLIEST_DATE}..{LATEST_DATE}",
                              field="start_date")
        return start, end

    def parties(self, vendor: str) -> list[Party]:
        return [Party(role="customer", name=self.request_terms.account.name), Party(role="vendor", name=vendor)]

    def deal_fields(self) -> dict[str, object]:
        """What the template's conditions read: the request's deal, currency and term."""
        t = self.request_terms
        return {**t.deal.model_dump(), "currency": t.currency, "term_months": t.term_months}

    def request_variables(self, vendor: str, start: dt.date) -> dict[str, object]:
        """The variables the request fills in; they win over a caller's values of the same name, so
        the document says what the contract's parties and dates say."""
        t = self.request_terms
        found = {"customer_name": t.account.name, "provider_name": vendor, "effective_date": start.isoformat(),
                 "term_months": t.term_months, "currency": t.currency,
                 "deal_size": str(t.deal.deal_size) if t.deal.deal_size is not None else None}
        return {name: value for name, value in found.items() if value is not None}

    def draft_from_template(self, *, template: TemplateUsed, vendor: str, start_date: dt.date | None,
                            variables: dict[str, str], clauses: list[VersionClause], terms: NegotiatedTerms,
                            document: DocumentRef, by: str, at: dt.datetime) -> None:
        self.check_draftable()
        start, end = self.drafting_dates(start_date)
        self.record(ContractDrafted(
            contract_id=self.contract_uuid, number=self.requested.number, title=self.request_terms.title,
            contract_model=template.kind, parties=self.parties(vendor), start_date=start, end_date=end,
            time_zone=self.request_terms.time_zone or "UTC"))
        self.record(ContractVersionAdded(
            contract_id=self.contract_uuid, version_number=1, origin="generated", author=by, added_at=at,
            document=document, template=template, variables=variables, clauses=clauses, terms=terms))
        if self.request_state is S.NEW:
            self._move(S.WORK_IN_PROGRESS, by, at, rules.DRAFTING_ONLY_FROM_NEW_OR_WORK)
