"""The projection's one consumer: every service's events into the shared contract record (clm's
negotiation and comment threads by negotiation_projection, operations' by operations_projection), and commerce's into the service
contract read model (an event may feed both)."""

from shared.backbone.event_routing import dispatcher, merged
from services.projection.application import (
    contract_projection, negotiation_projection, operations_projection, service_contract_projection,
)

CONSUMER_NAME = "projection"
HANDLERS = merged(contract_projection.HANDLERS, operations_projection.HANDLERS, negotiation_projection.HANDLERS,
                  service_contract_projection.HANDLERS)
project = dispatcher(HANDLERS)  # what the consumer runs per event; the rebuild replays through it
