"""The platform's public events: versioned payload schemas, the topics they travel on, and the
CloudEvents envelope. Documented for downstream consumers in shared/events/README.md."""

from shared.events.base import Event
from shared.events.contracts import ContractActivated, ContractDrafted, Party
from shared.events.coverage import AssetLinked, CoverageOpened
from shared.events.lifecycle import ContractExpired, ExpiryScheduled
from shared.events.orders import ServiceContractRecorded

ALL_EVENTS: tuple[type[Event], ...] = (
    ContractDrafted,
    ContractActivated,
    CoverageOpened,
    AssetLinked,
    ServiceContractRecorded,
    ExpiryScheduled,
    ContractExpired,
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
    "CoverageOpened",
    "Event",
    "ExpiryScheduled",
    "Party",
    "ServiceContractRecorded",
    "UnknownEvent",
    "event_class",
]
