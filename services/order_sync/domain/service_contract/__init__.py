"""A service contract with its lines and entitlements: one aggregate, so that its cascades
(expiry, cancellation, suspension) and its date rules hold in one transaction.

States follow docs/domain.md "Service contract life cycle": Draft -> Active at the start date ->
Expired after the end date; Canceled on request; lines and entitlements become Suspended while a
sold product or install base item they cover is suspended. Time-driven transitions happen in
`reach(date)`, which the scheduler triggers when a start or end date is reached in the
contract's time zone. Rule names are in `rules`.

The aggregate is built in layers, each a base of the next: `items` (lines, entitlements, their
date checks), `state` (the event handlers), `life_cycle` (the rules the commands share),
`lines` and `entitlements` (their commands), `renewal` (following the legal contract's tacit
renewal), `contract` (the contract's own commands).
"""

from services.order_sync.domain.service_contract.contract import ServiceContract
from services.order_sync.domain.service_contract.items import ContractLine, Entitlement, Item

__all__ = ["ContractLine", "Entitlement", "Item", "ServiceContract"]
