"""The Contract aggregate (stream type `contract`), split by concept: `intake` (the request:
states, classification, assignment; `classification` holds the rules' pure part), `drafting` (from a template),
`negotiation` (versions, deviations, negotiated terms), `approval` (phase 4), `signature`
(phase 5) and `contract`
(drafting without a template and activation, phase 6, whose pure order-readiness rules are
`readiness`), which composes them."""

from services.clm.domain.contract.contract import Contract, ContractState
from services.clm.domain.contract.intake import QUOTE_NAMESPACE, RequestState, request_id_of_quote

__all__ = ["QUOTE_NAMESPACE", "Contract", "ContractState", "RequestState", "request_id_of_quote"]
