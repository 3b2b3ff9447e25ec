"""The platform's public events: versioned payload schemas, the topics they travel on, and the
CloudEvents envelope. Documented for downstream consumers in shared/events/README.md.

Each event is defined in the module of its source (contracts, coverage, install_base, lifecycle,
orders) and imported from there. Importing this package imports every such module, so every
event is registered before anything is decoded: `ALL_EVENTS` and `event_class` know them all.
"""

import importlib
import pkgutil

from shared.events.base import Event, UnknownEvent, event_class, registered_events

_NOT_EVENT_MODULES = {"base", "envelope", "export", "topics"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_EVENT_MODULES:
        importlib.import_module(f"{__name__}.{_module.name}")

ALL_EVENTS: tuple[type[Event], ...] = registered_events()

__all__ = ["ALL_EVENTS", "Event", "UnknownEvent", "event_class"]
