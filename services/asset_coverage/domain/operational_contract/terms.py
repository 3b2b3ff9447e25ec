"""A contract's terms and state as operations keeps them: a vendor contract recorded here (its
terms owned by operations) or a contract from contracting (its legal terms owned there, copied
from ContractActivated; only the operational side is edited here)."""

import datetime as dt
from enum import StrEnum
from uuid import UUID, uuid5

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import ConflictingState
from shared.events.contracts import ContractActivated
from shared.events.coverage import (
    ContractOrigin, CoverageOpened, OperationalContractActivated, OperationalContractCanceled,
    OperationalContractExpired, OperationalTerms, OperationalTermsSet, VendorContractRegistered, VendorContractRevised,
    VendorContractTerms,
)
from services.asset_coverage.domain import rules

# A vendor contract's id follows from its natural key, so a re-import finds it without an index.
VENDOR_CONTRACT_NAMESPACE = UUID("6f1c3c1e-2b7a-5d0e-9a43-0c8e5f7d2a11")


def vendor_contract_id(vendor: str, vendor_contract_number: str) -> UUID:
    """The same contract whatever the case and surrounding spaces of the vendor's name."""
    return uuid5(VENDOR_CONTRACT_NAMESPACE, f"{' '.join(vendor.casefold().split())}\n{vendor_contract_number.strip()}")


class OperationalState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELED = "canceled"


TERMINAL = frozenset({OperationalState.EXPIRED, OperationalState.CANCELED})


class ContractTerms(Aggregate):
    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.origin: ContractOrigin | None = None
        self.state: OperationalState | None = None
        self.vendor_terms: VendorContractTerms | None = None  # operations' own contracts only
        self.number: str | None = None
        self.name: str | None = None
        self.contract_model: str | None = None
        self.start_date: dt.date | None = None
        self.end_date: dt.date | None = None
        self.time_zone: str = "UTC"
        self.operational = OperationalTerms()
        self.predecessor_id: UUID | None = None
        self.canceled_on: dt.date | None = None

    @classmethod
    def register_vendor_contract(cls, terms: VendorContractTerms, operational: OperationalTerms,
                                 predecessor_id: UUID | None = None):
        contract = cls(str(vendor_contract_id(terms.vendor, terms.vendor_contract_number)))
        contract.record(VendorContractRegistered(contract_id=UUID(contract.id), terms=terms, operational=operational,
                                                 predecessor_id=predecessor_id))
        return contract

    @classmethod
    def open_from_contracting(cls, event: ContractActivated):
        contract = cls(str(event.contract_id))
        contract.record(CoverageOpened(contract_id=event.contract_id, start_date=event.start_date,
                                       end_date=event.end_date, number=event.number, name=event.title,
                                       contract_model=event.contract_model, time_zone=event.time_zone))
        return contract

    def require_open(self) -> None:
        if self.state in TERMINAL:
            raise ConflictingState(rules.STATE_TERMINAL, f"contract {self.id} is {self.state}: nothing more changes")

    @applies
    def _on_vendor_registered(self, event: VendorContractRegistered) -> None:
        self.origin, self.state, self.predecessor_id = "operations", OperationalState.DRAFT, event.predecessor_id
        self.operational = event.operational
        self._take_terms(event.terms)

    @applies
    def _on_vendor_revised(self, event: VendorContractRevised) -> None:
        self._take_terms(event.terms)

    def _take_terms(self, terms: VendorContractTerms) -> None:
        self.vendor_terms = terms
        self.number, self.name, self.contract_model = terms.number, terms.name, terms.contract_model
        self.start_date, self.end_date, self.time_zone = terms.start_date, terms.end_date, terms.time_zone

    @applies
    def _on_opened(self, event: CoverageOpened) -> None:
        self.origin, self.state = "contracting", OperationalState.ACTIVE
        self.start_date, self.end_date = event.start_date, event.end_date
        self.number, self.name, self.contract_model = event.number, event.name, event.contract_model
        self.time_zone = event.time_zone or "UTC"

    @applies
    def _on_operational_set(self, event: OperationalTermsSet) -> None:
        self.operational = event.operational

    @applies
    def _on_activated(self, event: OperationalContractActivated) -> None:
        self.state = OperationalState.ACTIVE

    @applies
    def _on_expired(self, event: OperationalContractExpired) -> None:
        self.state = OperationalState.EXPIRED

    @applies
    def _on_canceled(self, event: OperationalContractCanceled) -> None:
        self.state, self.canceled_on = OperationalState.CANCELED, event.effective_on
