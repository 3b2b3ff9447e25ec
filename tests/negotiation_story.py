"""A contract's negotiation as clm publishes it (clm.contracts.v1, keyed by contract_id) and two of
its comment threads (clm.comments.v1, keyed by thread_id), with what the shared contract record
says once it has them all, in whatever order they came."""

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from shared.events.comments import CommentAdded, CommentThreadReopened, CommentThreadResolved
from shared.events.documents import DocumentRef
from shared.events.envelope import Envelope
from shared.events.negotiation import (
    ContractVersionAdded, DeviationCleared, DeviationFlagged, NegotiatedTerms, NegotiatedTermsRecorded, TemplateUsed,
    VersionClause,
)

AT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _document(n: int) -> DocumentRef:
    return DocumentRef(document_id=uuid.uuid4(), sha256=f"{n:x}" * 64, size=1000 + n, media_type=DOCX,
                       filename=f"msa-v{n}.docx")


def _clause(number: str) -> VersionClause:
    return VersionClause(number=number, heading=f"Clause {number}", text=f"Text of {number}")


@dataclass
class Negotiation:
    contract_id: uuid.UUID = field(default_factory=uuid.uuid4)
    template_id: uuid.UUID = field(default_factory=uuid.uuid4)
    open_deviation: uuid.UUID = field(default_factory=uuid.uuid4)
    cleared_deviation: uuid.UUID = field(default_factory=uuid.uuid4)
    resolved_thread: uuid.UUID = field(default_factory=uuid.uuid4)
    open_thread: uuid.UUID = field(default_factory=uuid.uuid4)

    def contract_events(self) -> list:
        c, t = self.contract_id, lambda minutes: AT + dt.timedelta(minutes=minutes)
        return [
            ContractVersionAdded(
                contract_id=c, version_number=1, origin="generated", author="counsel-lena", added_at=t(0),
                document=_document(1), template=TemplateUsed(template_id=self.template_id, template_version=3, kind="msa"),
                clauses=[_clause("7"), _clause("9")],
                terms=NegotiatedTerms(liability_cap=Decimal("1000000"), liability_cap_currency="EUR",
                                      auto_renewal=True, payment_days=30, governing_law="Germany")),
            ContractVersionAdded(
                contract_id=c, version_number=2, origin="counterparty_upload", author="sales-ann", added_at=t(10),
                document=_document(2), clauses=[_clause("7"), _clause("9")],
                terms=NegotiatedTerms(liability_cap=Decimal("500000"), liability_cap_currency="EUR")),
            DeviationFlagged(contract_id=c, deviation_id=self.open_deviation, version_number=2, kind="term_changed",
                             clause_number="7", term="liability_cap", before="EUR 1000000", after="EUR 500000",
                             flagged_at=t(10)),
            DeviationFlagged(contract_id=c, deviation_id=self.cleared_deviation, version_number=2,
                             kind="non_standard_clause", clause_number="9", heading="Clause 9", score=41.0,
                             flagged_at=t(10)),
            NegotiatedTermsRecorded(contract_id=c, terms=NegotiatedTerms(payment_days=45), by="counsel-lena", at=t(15)),
            ContractVersionAdded(
                contract_id=c, version_number=3, origin="internal_edit", author="counsel-lena", added_at=t(20),
                document=_document(3), clauses=[_clause("7"), _clause("9")],
                terms=NegotiatedTerms(governing_law="Austria")),
            DeviationCleared(contract_id=c, deviation_id=self.cleared_deviation, version_number=3, cleared_at=t(20)),
        ]

    def thread_events(self, thread_id: uuid.UUID, *, resolved: bool) -> list:
        c, first = self.contract_id, uuid.uuid4()
        events = [
            CommentAdded(thread_id=thread_id, contract_id=c, comment_id=first, version_number=2, clause_number="7",
                         text="A cap of 500k?", author="counsel-lena", at=AT),
            CommentAdded(thread_id=thread_id, contract_id=c, comment_id=uuid.uuid4(), version_number=2,
                         clause_number="7", reply_to=first, text="Their board insists", author="sales-ann", at=AT),
            CommentThreadResolved(thread_id=thread_id, contract_id=c, by="cm-max", at=AT, note="accepted"),
            CommentThreadReopened(thread_id=thread_id, contract_id=c, by="sales-ann", at=AT),
        ]
        if resolved:
            events.append(CommentThreadResolved(thread_id=thread_id, contract_id=c, by="cm-max", at=AT))
        return events

    def envelopes(self) -> list[Envelope]:
        """Each stream's events numbered by stream version, with the envelope time of clm's relay."""
        streams = [self.contract_events(), self.thread_events(self.resolved_thread, resolved=True),
                   self.thread_events(self.open_thread, resolved=False)]
        return [Envelope(e, i, time=AT + dt.timedelta(minutes=i)) for events in streams for i, e in enumerate(events, 1)]

    def scrambled(self, seed: int = 11) -> list[Envelope]:
        """Shuffled, some delivered twice (the same message) and some sent again (another message)."""
        envelopes = self.envelopes()
        random.Random(seed).shuffle(envelopes)
        again = [Envelope(e.event, e.stream_version, time=e.time) for e in envelopes[::3]]
        return envelopes + envelopes[:4] + again

    def expected(self) -> dict:
        """What the shared contract record says after all of them."""
        return {
            "template_id": str(self.template_id), "template_version": 3, "template_kind": "msa",
            "current_version_number": 3, "current_version_sha256": "3" * 64, "current_version_author": "counsel-lena",
            "current_version_origin": "internal_edit", "current_version_added_at": "2026-12-02T09:20:00Z",
            "liability_cap_currency": "EUR", "auto_renewal": True, "payment_days": 45,
            "governing_law": "Austria", "open_deviations": 1, "open_comments": 1,
        }
