"""The projection's one consumer: every service's events into the shared contract record (clm's
negotiation and comment threads by negotiation_projection, operations' by operations_projection,
phases 4-6 by approval_projection, signature_projection and fulfilment_projection, phase 7's renewal
calendar by renewal_projection, its links by link_projection and the phase intervals of cycle-time
analytics by cycle_time_projection), and commerce's into the service
contract read model (an event may feed both)."""

from shared.backbone.event_routing import dispatcher, merged
from services.projection.application import (
    approval_projection, contract_projection, cycle_time_projection, fulfilment_projection, link_projection,
    negotiation_projection, operations_projection, renewal_projection, service_contract_projection,
    signature_projection,
)

CONSUMER_NAME = "projection"
HANDLERS = merged(contract_projection.HANDLERS, operations_projection.HANDLERS, negotiation_projection.HANDLERS,
                  service_contract_projection.HANDLERS, approval_projection.HANDLERS, signature_projection.HANDLERS,
                  fulfilment_projection.HANDLERS, renewal_projection.HANDLERS, cycle_time_projection.HANDLERS,
                  link_projection.HANDLERS)
project = dispatcher(HANDLERS)  # what the consumer runs per event; the rebuild replays through it
