"""The contract as Legal and the contract manager see it: requested (intake.py), drafted
(drafting.py, from a template), negotiated in versions (negotiation.py), approved (approval.py),
signed and executed (signature.py), then activated (here; readiness.py holds the pure order-readiness
rules), renewed or ended by notice (renewal.py, phase 7). One aggregate, one stream from the request on (docs/design/contracting.md); each
concept is a module whose class is a base of the next, so every handler is in one table."""

import datetime as dt
from enum import StrEnum
from uuid import UUID

from shared.backbone.aggregate import applies
from shared.backbone.clock import EARLIEST_DATE, LATEST_DATE, is_plannable, is_time_zone
from shared.backbone.errors import ConflictingState, invalid
from shared.events.activation import ActivationBlocked, ActivationMissing, ContractActivatedV2, RenewalRules
from shared.events.contracts import ContractActivated, ContractDrafted, Party
from services.clm.domain import rules
from services.clm.domain.contract.intake import RequestState
from services.clm.domain.contract.readiness import Catalogue, activated_lines, entitlements_of, missing_items, skus_of
from services.clm.domain.contract.links import Linking


class ContractState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"


class Contract(Linking):
    stream_type = "contract"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.state: ContractState | None = None
        self.terms: ContractDrafted | None = None
        self.activated: ContractActivatedV2 | None = None
        self.blocked: ActivationBlocked | None = None  # the last block, while not activated
        self.blocked_on: frozenset[tuple[str, str]] | None = None

    @classmethod
    def draft(
        cls,
        contract_id: UUID,
        *,
        number: str,
        title: str,
        contract_model: str,
        parties: list[Party],
        start_date: dt.date,
        end_date: dt.date,
        time_zone: str = "UTC",
    ) -> "Contract":
        for name, date in (("start_date", start_date), ("end_date", end_date)):
            if not is_plannable(date):
                raise invalid(rules.DATES_OUT_OF_RANGE, f"{date} lies outside {EARLIEST_DATE}..{LATEST_DATE}", field=name)
        if end_date < start_date:
            raise invalid(rules.DATES_END_BEFORE_START, "the end date must not be before the start date", field="end_date")
        if not any(p.role == "customer" for p in parties):
            raise invalid(rules.CONTRACT_CUSTOMER_REQUIRED, "a contract needs a party with the role customer", field="parties")
        if not is_time_zone(time_zone):
            raise invalid(rules.TIME_ZONE_UNKNOWN, f"{time_zone!r} is not an IANA time zone", field="time_zone")
        contract = cls(str(contract_id))
        contract.record(
            ContractDrafted(
                contract_id=contract_id, number=number, title=title, contract_model=contract_model,
                parties=parties, start_date=start_date, end_date=end_date, time_zone=time_zone,
            )
        )
        return contract

    def activate(self, at: dt.datetime | None = None, *, today: dt.date | None = None,
                 catalogue: Catalogue | None = None, by: str = "") -> None:
        """By hand (POST /contracts/{id}/activation). A contract drafted without a request: v1 then an
        empty v2, as before. A requested one: once executed and its start date came (`today`, in its
        zone), and only when order sync can take it (else 409 listing what is missing)."""
        if self.state is not ContractState.DRAFT:
            raise ConflictingState(rules.ACTIVATE_ONLY_FROM_DRAFT, f"a contract in state {self.state} cannot be activated", field="state")
        if self.requested is None and self.executed is None:
            v1 = ContractActivated(**self.terms.model_dump())
            self.record(v1)
            self.record(ContractActivatedV2(**v1.model_dump(), activated_at=at))
            self._renewal_at_activation(at)
            return
        if self.executed is None:
            raise ConflictingState(rules.ACTIVATION_NOT_EXECUTED, "a requested contract is activated once it is executed (signed)",
                                   field="state")
        if today is not None and today < self.executed.start_date:
            raise ConflictingState(rules.ACTIVATION_BEFORE_START,
                                   f"the contract starts on {self.executed.start_date}; today is {today}", field="start_date")
        missing = self.missing_for_activation(catalogue or {})
        if missing:
            raise ConflictingState(rules.ACTIVATION_NOT_READY, "; ".join(f"{m.item}: {m.message}" for m in missing),
                                   field="missing", missing=[m.model_dump() for m in missing])
        self._activate_executed(catalogue or {}, at, by)

    def start_reached(self, catalogue: Catalogue, *, at: dt.datetime, by: str) -> None:
        """The start date came (ContractStartReached) or, while blocked, the catalogue changed:
        activate, or record what is missing, once per distinct list (a redelivery records nothing)."""
        if self.state is not ContractState.DRAFT or self.executed is None:
            return
        missing = self.missing_for_activation(catalogue)
        if not missing:
            self._activate_executed(catalogue, at, by)
        elif self.blocked_on != _keys(missing):
            self.record(ActivationBlocked(contract_id=self.contract_uuid, missing=missing, at=at))

    def missing_for_activation(self, catalogue: Catalogue) -> list[ActivationMissing]:
        if self.request_terms is None:
            return []
        start, end, _ = self.contract_dates
        return missing_items(self.request_terms, start, end, catalogue)

    @property
    def contract_dates(self) -> tuple[dt.date, dt.date, str]:
        """The executed dates (the signed ones) once executed, else the drafted ones."""
        source = self.executed or self.terms
        return source.start_date, source.end_date, source.time_zone

    @property
    def activation_skus(self) -> set[str]:
        return skus_of(self.request_terms)

    def _activate_executed(self, catalogue: Catalogue, at: dt.datetime | None, by: str) -> None:
        start, end, zone = self.contract_dates
        v1 = ContractActivated(**{**self.terms.model_dump(), "start_date": start, "end_date": end, "time_zone": zone})
        request = self.request_terms
        lines = activated_lines(request, start, end) if request else []
        auto_renewal = self.negotiated_terms.auto_renewal
        renewal = RenewalRules(auto_renewal=auto_renewal,
                               renewal_term_months=request.term_months if auto_renewal and request else None)
        self.record(v1)
        self.record(ContractActivatedV2(
            **v1.model_dump(), account_id=request.account.account_id if request else None,
            currency=request.currency if request else None,
            quote_id=self.requested.quote_id if self.requested else None,
            executed_version=self.executed.version_number,
            signed_document_sha256=self.executed.signed_document.sha256,
            lines=lines, entitlements=entitlements_of(lines, catalogue), renewal=renewal, activated_at=at,
        ))
        if self.request_state is RequestState.CONTRACT_SIGNED:
            self._move(RequestState.CLOSED_COMPLETE, by, at, rules.ACTIVATE_ONLY_FROM_DRAFT, reason="activated")
        self._renewal_at_activation(at)

    @applies
    def _on_contract_drafted(self, event: ContractDrafted) -> None:
        self.state = ContractState.DRAFT
        self.terms = event

    @applies
    def _on_contract_activated(self, event: ContractActivated) -> None:
        self.state = ContractState.ACTIVE

    @applies
    def _on_contract_activated_v2(self, event: ContractActivatedV2) -> None:
        self.activated = event
        self.blocked_on = None

    @applies
    def _on_activation_blocked(self, event: ActivationBlocked) -> None:
        self.blocked_on = _keys(event.missing)
        self.blocked = event


def _keys(missing: list[ActivationMissing]) -> frozenset[tuple[str, str]]:
    return frozenset((m.item, m.rule) for m in missing)
