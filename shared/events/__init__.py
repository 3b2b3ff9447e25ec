"""The platform's public events: versioned payload schemas, the topics they travel on, and the
CloudEvents envelope. Documented for downstream consumers in shared/events/README.md."""

from shared.events.base import Event
from shared.events.contracts import ContractActivated, ContractDrafted, Party
from shared.events.coverage import AssetLinked, CoverageOpened
from shared.events.install_base import (
    InstallBaseItemMoved,
    InstallBaseItemRecorded,
    InstallBaseItemResumed,
    InstallBaseItemSuspended,
    SoldProductRecorded,
    SoldProductResumed,
    SoldProductSuspended,
)
from shared.events.lifecycle import ContractExpired, DueTransition, ExpiryScheduled, ServiceContractDateReached
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineCanceled,
    ContractLineCoverageChanged,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineEdited,
    ContractLineExpired,
    ContractLineQuantityChanged,
    ContractLineRemoved,
    ContractLineResumed,
    ContractLineSuspended,
    ContractLineTerms,
    CoveredProduct,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementDatesChanged,
    EntitlementEdited,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    EntitlementSuspended,
    EntitlementTerms,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceContractRecorded,
    ServiceState,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    ContractDrafted,
    ContractActivated,
    CoverageOpened,
    AssetLinked,
    ServiceContractRecorded,
    ServiceContractDrafted,
    ServiceContractDatesChanged,
    ServiceContractActivated,
    ServiceContractExpired,
    ServiceContractCanceled,
    ContractLineAdded,
    ContractLineRemoved,
    ContractLineDatesChanged,
    ContractLineQuantityChanged,
    ContractLineEdited,
    ContractLineCoverageChanged,
    ContractLineDisconnected,
    ContractLineActivated,
    ContractLineSuspended,
    ContractLineResumed,
    ContractLineExpired,
    ContractLineCanceled,
    EntitlementAdded,
    EntitlementRemoved,
    EntitlementDatesChanged,
    EntitlementEdited,
    EntitlementActivated,
    EntitlementSuspended,
    EntitlementResumed,
    EntitlementExpired,
    EntitlementCanceled,
    SoldProductRecorded,
    SoldProductSuspended,
    SoldProductResumed,
    InstallBaseItemRecorded,
    InstallBaseItemMoved,
    InstallBaseItemSuspended,
    InstallBaseItemResumed,
    ExpiryScheduled,
    ContractExpired,
    ServiceContractDateReached,
)

_BY_TYPE = {(cls.event_type, cls.schema_version): cls for cls in ALL_EVENTS}


def event_class(event_type: str, schema_version: int) -> type[Event]:
    try:
        return _BY_TYPE[(event_type, schema_version)]
    except KeyError:
        raise UnknownEvent(event_type, schema_version) from None


class UnknownEvent(LookupError):
    def __init__(self, event_type: str, schema_version: int):
        super().__init__(f"no schema for event {event_type} v{schema_version}")


__all__ = [
    "ALL_EVENTS",
    "AssetLinked",
    "ContractActivated",
    "ContractDrafted",
    "ContractExpired",
    "ContractLineActivated",
    "ContractLineAdded",
    "ContractLineCanceled",
    "ContractLineCoverageChanged",
    "ContractLineDatesChanged",
    "ContractLineDisconnected",
    "ContractLineEdited",
    "ContractLineExpired",
    "ContractLineQuantityChanged",
    "ContractLineRemoved",
    "ContractLineResumed",
    "ContractLineSuspended",
    "ContractLineTerms",
    "CoverageOpened",
    "CoveredProduct",
    "DueTransition",
    "EntitlementActivated",
    "EntitlementAdded",
    "EntitlementCanceled",
    "EntitlementDatesChanged",
    "EntitlementEdited",
    "EntitlementExpired",
    "EntitlementRemoved",
    "EntitlementResumed",
    "EntitlementSuspended",
    "EntitlementTerms",
    "Event",
    "ExpiryScheduled",
    "InstallBaseItemMoved",
    "InstallBaseItemRecorded",
    "InstallBaseItemResumed",
    "InstallBaseItemSuspended",
    "Party",
    "ServiceContractActivated",
    "ServiceContractCanceled",
    "ServiceContractDateReached",
    "ServiceContractDatesChanged",
    "ServiceContractDrafted",
    "ServiceContractExpired",
    "ServiceContractRecorded",
    "ServiceState",
    "SoldProductRecorded",
    "SoldProductResumed",
    "SoldProductSuspended",
    "UnknownEvent",
    "event_class",
]
