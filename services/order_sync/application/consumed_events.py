"""What order sync does with other services' events. Each handler runs in the consumer's unit of
work, with the inbox row, so an event redelivered takes effect once. ContractActivated (v2) is
application/orders.py's.

A consumed batch (shared/backbone/event_routing.py) reads the contracts of all its
ServiceContractDateReached events in one query (`reaching_dates`), and the index rows they
rewrite are written once for the batch at commit (adapters/indexes.py, `KeptBack`)."""

from shared.backbone.event_routing import Prefetching
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.lifecycle import ServiceContractDateReached
from services.order_sync.application.indexing import save_indexes
from services.order_sync.domain.service_contract import ServiceContract


async def reach_dates(uow: UnitOfWork, envelope: Envelope) -> None:
    """ServiceContractDateReached: the scheduler's timers fell due; the contract becomes what its
    dates say on that date."""
    event: ServiceContractDateReached = envelope.event
    contract = await uow.get(ServiceContract, str(event.contract_id))
    if contract is None:
        return
    contract.reach(event.date)
    await save_indexes(uow)


reaching_dates = Prefetching(reach_dates, lambda envelope: [str(envelope.event.contract_id)])
