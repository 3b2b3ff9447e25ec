"""What contracting does with other services' events. Each handler runs in the consumer's unit of
work, with the inbox row, so an event redelivered takes effect once."""

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.quotes import QuoteApproved
from services.clm.application.contract_requests import save_requests
from services.clm.domain.contract import Contract, request_id_of_quote


async def open_request_from_quote(uow: UnitOfWork, envelope: Envelope) -> None:
    """QuoteApproved: a request in `new`, prefilled with every commercial field of the quote. Its id
    follows from the quote's, so the same quote approved again (another message) opens nothing twice."""
    quote: QuoteApproved = envelope.event
    if await uow.get(Contract, str(request_id_of_quote(quote.quote_id))) is None:
        uow.add(Contract.request_from_quote(quote))
        await save_requests(uow)
