"""A contract's terms and state as operations keeps them: a vendor contract recorded here (its
terms owned by operations) or a contract from contracting (its legal terms owned there, copied
from ContractActivated; only the operational side is edited here)."""

import datetime as dt
from enum import StrEnum
from uuid import UUID, uuid5

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.clock import is_plannable, is_time_zone
from shared.backbone.errors import ConflictingState, invalid
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


def check_terms(terms: VendorContractTerms) -> None:
    """What the schema cannot say of a vendor contract's terms: dates a timer can be set for, a known zone."""
    if not is_time_zone(terms.time_zone):
        raise invalid(rules.TIME_ZONE_UNKNOWN, f"{terms.time_zone!r} is not an IANA time zone", "time_zone")
    for name in ("start_date", "end_date"):
        if not is_plannable(getattr(terms, name)):
            raise invalid(rules.DATES_OUT_OF_RANGE, f"{name} must lie between 1900-01-01 and 9998-12-31", name)


def changed_fields(new, old) -> list[str]:
    """Names of the model's fields whose values differ (old None: all of them)."""
    return [name for name in type(new).model_fields if old is None or getattr(new, name) != getattr(old, name)]


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
        check_terms(terms)
        contract = cls(str(vendor_contract_id(terms.vendor, terms.vendor_contract_number)))
        contract.record(VendorContractRegistered(contract_id=UUID(contract.id), terms=terms, operational=operational,
                                                 predecessor_id=predecessor_id))
        return contract

    @classmethod
    def open_from_contracting(cls, event: ContractActivated, predecessor_id: UUID | None = None):
        """`predecessor_id`: the contract a renewal successor renews (clm's ContractLinked)."""
        contract = cls(str(event.contract_id))
        contract.record(CoverageOpened(contract_id=event.contract_id, start_date=event.start_date,
                                       end_date=event.end_date, number=event.number, name=event.title,
                                       contract_model=event.contract_model, time_zone=event.time_zone,
                                       predecessor_id=predecessor_id))
        return contract

    def follow_renewal(self, end_date: dt.date) -> bool:
        """A contract from contracting renewed tacitly (ContractRenewed): its operational end moves to
        the new period's end, so its coverage does not lapse at the old one. Recorded as
        CoverageOpened again with the new end (the event that carries a contracting contract's
        dates here). False when not open, not from contracting, or already at that end (a redelivery)."""
        if self.origin != "contracting" or self.state in TERMINAL or end_date <= self.end_date:
            return False
        self.record(CoverageOpened(contract_id=UUID(self.id), start_date=self.start_date, end_date=end_date,
                                   number=self.number, name=self.name, contract_model=self.contract_model,
                                   time_zone=self.time_zone, predecessor_id=self.predecessor_id))
        return True

    def require_open(self) -> None:
        if self.state in TERMINAL:
            raise ConflictingState(rules.STATE_TERMINAL, f"contract {self.id} is {self.state}: nothing more changes")

    def require_own_terms(self, field: str | None = None) -> None:
        """Legal terms of a contract from contracting change in clm, never here."""
        if self.origin == "contracting":
            raise ConflictingState(rules.LEGAL_TERMS_OWNED_BY_CONTRACTING,
                                   f"contract {self.id} came from contracting: its legal terms change there", field)

    def revise_terms(self, terms: VendorContractTerms) -> bool:
        """Draft: anything but the natural key; Active: start date fixed, end date only later.
        False when nothing changed (a re-imported row changes nothing)."""
        self.require_own_terms()
        self.require_open()
        check_terms(terms)
        if vendor_contract_id(terms.vendor, terms.vendor_contract_number) != UUID(self.id):
            raise invalid(rules.NATURAL_KEY_FIXED, "vendor and vendor_contract_number identify the contract: "
                                                   "register another contract instead", "vendor_contract_number")
        if self.state == OperationalState.ACTIVE:
            if terms.start_date != self.start_date:
                raise ConflictingState(rules.ACTIVE_START_DATE_FROZEN,
                                       f"the contract is active since {self.start_date}: its start date is fixed",
                                       "start_date")
            if terms.end_date < self.end_date:
                raise ConflictingState(rules.ACTIVE_END_DATE_EXTEND_ONLY,
                                       f"the contract is active: its end date {self.end_date} can only be extended",
                                       "end_date")
        changed = changed_fields(terms, self.vendor_terms)
        if changed:
            self.record(VendorContractRevised(contract_id=UUID(self.id), terms=terms, changed=changed))
        return bool(changed)

    def set_operational_terms(self, operational: OperationalTerms) -> bool:
        """SLA, warranty, costs, renewal options, owners, of any contract; False when nothing changed."""
        self.require_open()
        changed = changed_fields(operational, self.operational)
        if changed:
            self.record(OperationalTermsSet(contract_id=UUID(self.id), operational=operational, changed=changed))
        return bool(changed)

    def activate(self, on: dt.date) -> bool:
        """The start date `on` was reached: a Draft whose start it still is becomes Active (a
        start reached for a date since moved, or reached again, changes nothing)."""
        if self.state != OperationalState.DRAFT or on != self.start_date:
            return False
        self.record(OperationalContractActivated(contract_id=UUID(self.id), on=on))
        return True

    def expire(self, end_date: dt.date | None = None) -> bool:
        """The end date passed: expired from the day after. With `end_date` (a vendor contract's timer),
        only if it is still the end date; a contract from contracting expires on its ContractExpired."""
        if self.state in TERMINAL or (end_date is not None and end_date != self.end_date):
            return False
        self.record(OperationalContractExpired(contract_id=UUID(self.id), end_date=self.end_date))
        return True

    def cancel(self, on: dt.date, reason: str | None = None) -> bool:
        """Covers nothing from `on`. Canceled again from the same date (a retry) changes nothing;
        a contract from contracting ends there (terminated in clm), not here."""
        if self.state == OperationalState.CANCELED and self.canceled_on == on:
            return False
        self.require_own_terms()
        self.require_open()
        if not is_plannable(on):
            raise invalid(rules.DATES_OUT_OF_RANGE, "effective_on must lie between 1900-01-01 and 9998-12-31",
                          "effective_on")
        self.record(OperationalContractCanceled(contract_id=UUID(self.id), effective_on=on, reason=reason))
        return True

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
        self.start_date, self.end_date, self.predecessor_id = event.start_date, event.end_date, event.predecessor_id
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
