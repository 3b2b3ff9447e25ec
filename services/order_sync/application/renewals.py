"""The service contract following its legal contract's tacit renewal (clm's ContractRenewed on
clm.contracts.v1), on its own consumer `order_sync-renewals`, in the consumer's unit of work (the
inbox row commits with it, so a redelivery takes effect once; the command is idempotent besides).

Order: ContractActivated precedes ContractRenewed on the contract's partition by at least one whole
period, but the service contract is recorded by another consumer (the default one, application/
orders.py). A renewal that finds no service contract is logged and recorded nowhere: the
activation consumer would have to lag a whole contract period behind this one for that to happen.
A consumed batch reads all its renewals' service contracts in one query (`following_renewals`)."""

from shared.backbone.event_routing import Prefetching
from shared.backbone.logging import get_logger
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.renewal_terms import ContractRenewed
from services.order_sync.application.indexing import save_indexes
from services.order_sync.domain.service_contract import ServiceContract

CONSUMER_NAME = "order_sync-renewals"

log = get_logger(__name__)


async def follow_renewal(uow: UnitOfWork, envelope: Envelope) -> None:
    """ContractRenewed: what ended with the renewed period runs on to the new period's end."""
    event: ContractRenewed = envelope.event
    contract = await uow.get(ServiceContract, str(event.contract_id))
    if contract is None:
        log.warning("order_sync.renewal_without_service_contract", contract_id=str(event.contract_id),
                    previous_end_date=event.previous_end_date.isoformat(), renewals=event.renewals)
        return
    contract.renew(event.previous_end_date, event.period.end_date)
    await save_indexes(uow)


following_renewals = Prefetching(follow_renewal, lambda envelope: [str(envelope.event.contract_id)])
