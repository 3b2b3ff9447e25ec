"""The comparison rules: the executed contract's terms (ContractActivated v2) against the service
contract order sync has for it, as a list of Differences (shared/events/reconciliation.py).

- Contract: start and end dates; a canceled service contract is one difference (`state`).
- Lines: each contract line is matched to a service line by the order's fulfilment (contract line
  -> order line -> service line, from OrderCreated / OrderLineFulfilled), else by the same id, else
  by product and dates, else by product. Compared: product, quantity, unit price, start and end
  dates. Order sync's line has no discount: its unit price may be the signed list price or the
  signed net price per unit (net amount / quantity). A contract line without a service line, or a
  service line no contract line matched, is a `presence` difference. Canceled items count as absent.
- Entitlements: under a matched line, by name. Compared: support level, SLA, features (as a set),
  usage limit and unit, start and end dates; missing or extra ones are `presence` differences.
"""

from decimal import Decimal
from uuid import UUID

from shared.events.activation import ActivatedEntitlement, ActivatedLine, ContractActivatedV2
from shared.events.orders import ServiceState
from shared.events.reconciliation import Difference
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

ENTITLEMENT_FIELDS = ("support_level", "sla", "features", "usage_limit", "usage_unit", "start_date", "end_date")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(sorted(value))
    return str(value)


def _live(items):
    return [item for item in items if item.state != ServiceState.CANCELED]


def match_lines(signed: list[ActivatedLine], service: list[ContractLine],
                fulfilled: dict[UUID, UUID]) -> dict[UUID, ContractLine]:
    """Contract line id -> its service line; `fulfilled` maps contract line ids to service line ids."""
    free = {line.line_id: line for line in service}
    matched: dict[UUID, ContractLine] = {}

    def take(contract_line_id: UUID, service_line_id: UUID) -> None:
        matched[contract_line_id] = free.pop(service_line_id)

    for line in signed:
        for candidate in (fulfilled.get(line.line_id), line.line_id):
            if candidate in free:
                take(line.line_id, candidate)
                break
    for same_dates in (True, False):
        for line in signed:
            if line.line_id in matched:
                continue
            for s in list(free.values()):
                if s.product == line.product and (not same_dates or (s.start_date, s.end_date) == (line.start_date, line.end_date)):
                    take(line.line_id, s.line_id)
                    break
    return matched


def _price_agrees(signed: ActivatedLine, active: Decimal) -> bool:
    net_per_unit = signed.net_amount / signed.quantity
    return active == signed.unit_price or abs(active - net_per_unit) < Decimal("0.005")


def _line_differences(signed: ActivatedLine, active: ContractLine) -> list[Difference]:
    item, found = str(signed.line_id), []

    def differ(name: str, want, have) -> None:
        if want != have:
            found.append(Difference(kind="line", item=item, field=name, signed=_text(want), active=_text(have)))

    differ("product", signed.product, active.product)
    differ("quantity", signed.quantity, Decimal(active.quantity))
    if not _price_agrees(signed, active.unit_price):
        found.append(Difference(kind="line", item=item, field="unit_price", signed=_text(signed.unit_price),
                                active=_text(active.unit_price)))
    differ("start_date", signed.start_date, active.start_date)
    differ("end_date", signed.end_date, active.end_date)
    return found


def _entitlement_differences(line_id: UUID, signed: list[ActivatedEntitlement],
                             active: list[Entitlement]) -> list[Difference]:
    found = []
    by_name = {e.name: e for e in active}
    for want in signed:
        item = f"{line_id}/{want.name}"
        have = by_name.pop(want.name, None)
        if have is None:
            found.append(Difference(kind="entitlement", item=item, field="presence", signed=want.name, active=None))
            continue
        for name in ENTITLEMENT_FIELDS:
            w, h = getattr(want, name), getattr(have, name)
            if name == "features":
                w, h = set(w), set(h)
            if w != h:
                found.append(Difference(kind="entitlement", item=item, field=name, signed=_text(w), active=_text(h)))
    for extra in by_name.values():
        found.append(Difference(kind="entitlement", item=f"{line_id}/{extra.name}", field="presence",
                                signed=None, active=extra.name))
    return found


def compare(signed: ContractActivatedV2, service: ServiceContract,
            fulfilled: dict[UUID, UUID] | None = None) -> list[Difference]:
    """Every difference between the signed terms and the service contract, in a stable order."""
    found: list[Difference] = []
    if service.state == ServiceState.CANCELED:
        return [Difference(kind="contract", item="contract", field="state", signed="active", active="canceled")]
    for name in ("start_date", "end_date"):
        want, have = getattr(signed, name), getattr(service, name)
        if want != have:
            found.append(Difference(kind="contract", item="contract", field=name, signed=_text(want), active=_text(have)))
    lines = _live(service.lines.values())
    matched = match_lines(signed.lines, lines, fulfilled or {})
    entitlements = _live(service.entitlements.values())
    for line in signed.lines:
        active = matched.get(line.line_id)
        wanted = [e for e in signed.entitlements if e.line_id == line.line_id]
        if active is None:
            found.append(Difference(kind="line", item=str(line.line_id), field="presence", signed=line.product, active=None))
            found += [Difference(kind="entitlement", item=f"{line.line_id}/{e.name}", field="presence", signed=e.name,
                                 active=None) for e in wanted]
            continue
        found += _line_differences(line, active)
        found += _entitlement_differences(line.line_id, wanted, [e for e in entitlements if e.line_id == active.line_id])
    matched_ids = {s.line_id for s in matched.values()}
    for extra in lines:
        if extra.line_id not in matched_ids:
            found.append(Difference(kind="line", item=str(extra.line_id), field="presence", signed=None, active=extra.product))
    signed_line_ids = {line.line_id for line in signed.lines}
    for want in signed.entitlements:  # an entitlement of no signed line (the contract as a whole)
        if want.line_id not in signed_line_ids:
            found += _entitlement_differences(want.line_id, [want], [])
    return found
