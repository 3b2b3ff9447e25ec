"""Amendments and renewal successors (phase 7): both are new contract requests on their own
streams, opened through the normal intake (ContractRequested, so approval and signature apply
unchanged) and followed at once by ContractLinked naming the parent or the predecessor.

An amendment starts from its parent's request terms and wins from `effective_date`; a successor
starts from its predecessor's terms and lines, the day after the predecessor's current end,
for the same term length."""

import datetime as dt
import uuid
from typing import Self

from dateutil.relativedelta import relativedelta

from shared.backbone.aggregate import applies
from shared.backbone.errors import ConflictingState, invalid
from shared.events.contract_links import ContractLinked
from shared.events.contracts import RequestTerms
from shared.events.quotes import QuoteLine
from services.clm.domain import rules
from services.clm.domain.contract.intake import RequestState
from services.clm.domain.contract.renewal import Renewing

AMENDMENT, SUCCESSOR = "amendment", "successor"


class Linking(Renewing):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.link: ContractLinked | None = None  # set on an amendment or a successor

    @classmethod
    def amendment_of(cls, parent: "Linking", amendment_id: uuid.UUID, *, effective_date: dt.date,
                     title: str | None, by: str, at: dt.datetime) -> Self:
        """A request amending `parent` from `effective_date`, prefilled from the parent's request terms."""
        start, end = parent._check_linkable()
        if parent.link is not None and parent.link.relation == AMENDMENT:
            raise ConflictingState(rules.LINK_AMEND_THE_PARENT,
                                   f"{parent.id} amends {parent.link.parent_id}: amend that contract", field="contract_id")
        if not start <= effective_date <= end:
            raise invalid(rules.LINK_EFFECTIVE_DATE_OUTSIDE_TERM,
                          f"an amendment of this contract takes effect within {start}..{end}", field="effective_date")
        terms = parent.request_terms.model_copy(
            update={"title": title or f"Amendment to {parent.request_terms.title}"[:300]})
        return cls._linked(amendment_id, terms, AMENDMENT, parent, effective_date, by, at)

    @classmethod
    def successor_of(cls, predecessor: "Linking", successor_id: uuid.UUID, *, by: str, at: dt.datetime) -> Self:
        """The renewal request of `predecessor`: its terms and lines, starting the day after its
        current end, for the same term length (the lines' dates moved to the new term)."""
        start, end = predecessor._check_linkable()
        months = predecessor.request_terms.term_months or term_months(start, end)
        new_start = end + dt.timedelta(days=1)
        new_end = new_start + relativedelta(months=months) - dt.timedelta(days=1) if months else None
        terms = predecessor.request_terms.model_copy(update={
            "desired_start_date": new_start, "term_months": months,
            "lines": [moved_line(line, successor_id, new_start, new_end) for line in predecessor.request_terms.lines],
        })
        return cls._linked(successor_id, terms, SUCCESSOR, predecessor, new_start, by, at)

    @classmethod
    def _linked(cls, contract_id: uuid.UUID, terms: RequestTerms, relation: str, parent: "Linking",
                effective_date: dt.date, by: str, at: dt.datetime) -> Self:
        """ContractRequested as a self-service request records it, then at once ContractLinked
        (before the classification the rules give), so every reader learns the link with the request."""
        requested = cls.request(contract_id, terms, by=by, at=at).pending_events[0]
        contract = cls(str(contract_id))
        contract.record(requested)
        contract.record(ContractLinked(contract_id=contract_id, relation=relation, parent_id=parent.contract_uuid,
                                       effective_date=effective_date, linked_by=by, at=at))
        contract._follow_rules(at)
        return contract

    def same_link(self, other: "Linking") -> bool:
        """Whether `other` is this link again (a retried create with the same id)."""
        def link(c: "Linking") -> tuple | None:
            return (c.link.relation, c.link.parent_id, c.link.effective_date) if c.link else None
        return link(self) is not None and link(self) == link(other)

    @property
    def is_live(self) -> bool:
        """A link whose request was not cancelled (a cancelled successor lets a new renew through)."""
        return self.request_state is not RequestState.CANCELLED

    @property
    def current_end_date(self) -> dt.date:
        """The last day of the contract as it stands: the current renewal period's end once the
        renewal terms part tracks one (`current_period`), else the executed end date."""
        period = getattr(self, "current_period", None)
        return period.end_date if period is not None else self.contract_dates[1]

    def _check_linkable(self) -> tuple[dt.date, dt.date]:
        self._require_request()
        if self.executed is None:  # a requested contract is activated only once executed
            raise ConflictingState(rules.LINK_PARENT_NOT_EXECUTED,
                                   f"contract {self.id} is not executed yet (request {self.request_state})", field="state")
        return self.contract_dates[0], self.current_end_date

    @applies
    def _on_linked(self, event: ContractLinked) -> None:
        self.link = event


def term_months(start: dt.date, end: dt.date) -> int | None:
    """The whole months start..end (inclusive end) spans, or None when it is not whole months."""
    after = end + dt.timedelta(days=1)
    delta = relativedelta(after, start)
    whole = delta.years * 12 + delta.months  # 31 Jan + 3 months is 30 Apr: relativedelta counts 2 months 30 days
    return next((m for m in (whole, whole + 1) if m > 0 and start + relativedelta(months=m) == after), None)


def moved_line(line: QuoteLine, successor_id: uuid.UUID, start: dt.date, end: dt.date | None) -> QuoteLine:
    """The line for the successor: its own id (the same on a retry), dated lines over the new term."""
    dated = line.start_date is not None or line.end_date is not None
    return line.model_copy(update={
        "line_id": uuid.uuid5(successor_id, str(line.line_id)),
        "start_date": start if dated else None, "end_date": end if dated else None,
    })
