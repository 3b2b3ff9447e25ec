"""clm's ContractLinked into the shared record's links (adapters/contract_links.py): an amendment
or a renewal successor, with its parent."""

from shared.backbone.event_routing import HandlerTable
from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contract_links import ContractLinked
from shared.events.envelope import Envelope
from services.projection.adapters import contract_links


async def _linked(uow: UnitOfWork, envelope: Envelope) -> None:
    event: ContractLinked = envelope.event
    await contract_links.add_link(uow.conn, event.contract_id, relation=event.relation, parent_id=event.parent_id,
                                  effective_date=event.effective_date, linked_by=event.linked_by, linked_at=event.at)


HANDLERS: HandlerTable = {ContractLinked: _linked}
