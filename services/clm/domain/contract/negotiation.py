"""The contract's versions and what negotiation makes of them (phase 3): each version's clauses as
matched against the library, the deviations open on the contract, the negotiated terms.

A deviation is a non-standard clause or a term changed against us since version 1 (values.py's
DEVIATING). It is flagged when a version first has it and cleared when a later version no longer
has it; while one is open the contract is at least non_standard, and it is never lowered again
automatically (docs/design/contracting.md, "Classification")."""

import datetime as dt
import uuid

from shared.backbone.aggregate import applies
from shared.backbone.errors import ConflictingState, NotFound, invalid
from shared.events.contracts import ClassificationReason
from shared.events.documents import DocumentRef
from shared.events.negotiation import (
    ContractVersionAdded, DeviationCleared, DeviationFlagged, NegotiatedTerms, NegotiatedTermsRecorded, TemplateUsed,
    VersionClause, VersionOrigin,
)
from services.clm.domain import rules
from services.clm.domain.contract.classification import RANK
from services.clm.domain.contract.intake import RULES, Intake, RequestState
from services.clm.domain.documents import values
from services.clm.domain.documents.deviations import normalise

# While a version is negotiated the request is in work or back in review; later states (approval,
# signature) are reached from work in progress, and a new version there goes back through it.
NEGOTIATING = frozenset({RequestState.WORK_IN_PROGRESS, RequestState.AWAITING_REVIEW})
DEVIATION_FLOOR = "non_standard"


def deviation_key(flagged: DeviationFlagged) -> str:
    """What makes two versions' deviations the same one: the term, or the library clause it departs
    from (its heading when nothing in the library is close)."""
    if flagged.kind == "term_changed":
        return f"term/{flagged.term}"
    if flagged.closest_clause_id is not None:
        return f"clause/{flagged.closest_clause_id}"
    return f"heading/{normalise(flagged.heading or flagged.clause_number or '')}"


def _printed(value) -> str | None:
    return None if value is None else str(value).lower() if isinstance(value, bool) else str(value)


class Negotiation(Intake):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.versions: list[ContractVersionAdded] = []
        self.deviations: dict[uuid.UUID, DeviationFlagged] = {}  # every one flagged, by id
        self.open_deviations: dict[str, uuid.UUID] = {}  # deviation_key -> id of the open one
        self.cleared: dict[uuid.UUID, DeviationCleared] = {}
        self.negotiated_terms: NegotiatedTerms = NegotiatedTerms()  # current: as read or as recorded

    @property
    def template(self) -> TemplateUsed | None:
        return self.versions[0].template if self.versions else None

    @property
    def current_version(self) -> ContractVersionAdded | None:
        return self.versions[-1] if self.versions else None

    def version_numbered(self, number: int) -> ContractVersionAdded:
        if not 1 <= number <= len(self.versions):
            raise NotFound("contract_version", f"{self.id} v{number}", field="version")
        return self.versions[number - 1]

    # -- commands ---------------------------------------------------------------------------------

    def add_version(self, *, origin: VersionOrigin, author: str, at: dt.datetime, document: DocumentRef,
                    clauses: list[VersionClause], terms: NegotiatedTerms) -> ContractVersionAdded:
        """An internal edit or a counterparty's upload, its clauses already matched against the library."""
        self.check_can_add_version()
        added = ContractVersionAdded(
            contract_id=self.contract_uuid, version_number=len(self.versions) + 1, origin=origin, author=author,
            added_at=at, document=document, clauses=clauses, terms=terms)
        self.record(added)
        self._follow_deviations(added, at)
        return added

    def check_can_add_version(self) -> None:
        if not self.versions:
            raise ConflictingState(rules.NEGOTIATION_NOT_DRAFTED,
                                   "versions are added to a contract drafted from a template", field="contract_id")
        if self.request_state not in NEGOTIATING:
            raise ConflictingState(rules.NEGOTIATION_ONLY_IN_NEGOTIATION,
                                   f"versions are added while the request is work_in_progress or awaiting_review, "
                                   f"not {self.request_state}", field="state")

    def record_terms(self, terms: NegotiatedTerms, *, by: str, at: dt.datetime) -> None:
        """Terms agreed outside the document (fields left out stay as they were)."""
        if not self.versions:
            raise ConflictingState(rules.NEGOTIATION_NOT_DRAFTED,
                                   "terms are recorded on a contract drafted from a template", field="contract_id")
        self._refuse_if_terminal()
        given = terms.model_dump(exclude_none=True)
        if not given:
            raise invalid(rules.NEGOTIATION_TERMS_EMPTY, "name at least one negotiated term", field="terms")
        if all(getattr(self.negotiated_terms, name) == value for name, value in given.items()):
            return
        self.record(NegotiatedTermsRecorded(contract_id=self.contract_uuid, terms=terms, by=by, at=at))

    # -- deviations ---------------------------------------------------------------------------------

    def _follow_deviations(self, version: ContractVersionAdded, at: dt.datetime) -> None:
        found = self._deviations_of(version, at)
        by_key = {deviation_key(d): d for d in found}
        for key, deviation_id in list(self.open_deviations.items()):
            if key not in by_key:
                self.record(DeviationCleared(contract_id=self.contract_uuid, deviation_id=deviation_id,
                                             version_number=version.version_number, cleared_at=at))
        for key, flagged in by_key.items():
            if key not in self.open_deviations:
                self.record(flagged)
        if self.open_deviations and RANK[self.classification or "standard"] < RANK[DEVIATION_FLOOR]:
            reason = ClassificationReason(
                rule=rules.CLASSIFICATION_DEVIATION_OPEN,
                message=f"version {version.version_number} has {len(self.open_deviations)} open deviation(s)")
            self._record_class(DEVIATION_FLOOR, [reason], RULES, at)

    def _deviations_of(self, version: ContractVersionAdded, at: dt.datetime) -> list[DeviationFlagged]:
        number = version.version_number

        def flag(key_hint: str, **fields) -> DeviationFlagged:
            # The id names the contract, what deviates and the version that first had it: a
            # deviation cleared and flagged again later is a new one.
            deviation_id = uuid.uuid5(self.contract_uuid, f"{key_hint}@{number}")
            return DeviationFlagged(contract_id=self.contract_uuid, deviation_id=deviation_id, version_number=number,
                                    flagged_at=at, **fields)

        found = []
        for clause in version.clauses:
            if clause.match == "non_standard":
                key = f"clause/{clause.clause_id}" if clause.clause_id else f"heading/{normalise(clause.heading)}"
                found.append(flag(key, kind="non_standard_clause", clause_number=clause.number, heading=clause.heading,
                                  closest_clause_id=clause.clause_id, score=clause.score))
        baseline = values.NegotiatedTerms(**self.versions[0].terms.model_dump())
        for change in values.changed_terms(baseline, values.NegotiatedTerms(**version.terms.model_dump())):
            if change.deviation:
                found.append(flag(f"term/{change.field}", kind="term_changed", term=change.field,
                                  before=_printed(change.before), after=_printed(change.after)))
        return found

    # -- what the events say -------------------------------------------------------------------------

    @applies
    def _on_version_added(self, event: ContractVersionAdded) -> None:
        self.versions.append(event)
        read = event.terms.model_dump(exclude_none=True)
        self.negotiated_terms = self.negotiated_terms.model_copy(update=read)

    @applies
    def _on_deviation_flagged(self, event: DeviationFlagged) -> None:
        self.deviations[event.deviation_id] = event
        self.open_deviations[deviation_key(event)] = event.deviation_id

    @applies
    def _on_deviation_cleared(self, event: DeviationCleared) -> None:
        self.cleared[event.deviation_id] = event
        flagged = self.deviations.get(event.deviation_id)
        if flagged is not None:
            self.open_deviations.pop(deviation_key(flagged), None)

    @applies
    def _on_terms_recorded(self, event: NegotiatedTermsRecorded) -> None:
        self.negotiated_terms = self.negotiated_terms.model_copy(update=event.terms.model_dump(exclude_none=True))
