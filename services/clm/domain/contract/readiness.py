"""Order readiness (phase 6): what order sync needs of an executed contract, and the key terms of
ContractActivated v2 built from it. Pure: the catalogue copy is passed in (clm's copy of
order_sync.catalogue.v1, adapters/catalogue_copy.py), nothing is read here."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from shared.events.activation import ActivatedEntitlement, ActivatedLine, ActivationMissing
from shared.events.catalogue import EntitlementTemplate
from shared.events.contracts import RequestTerms
from services.clm.domain import rules


@dataclass(frozen=True)
class CatalogueCopy:
    """clm's copy of one SKU's catalogue entry: its latest version, retired or not."""

    sku: str
    version: int
    product: str
    entitlements: list[EntitlementTemplate] = field(default_factory=list)
    retired: bool = False


Catalogue = Mapping[str, CatalogueCopy]


def activated_lines(terms: RequestTerms, start: dt.date, end: dt.date) -> list[ActivatedLine]:
    """The request's lines, their dates defaulted to the contract's."""
    return [
        ActivatedLine(line_id=line.line_id, sku=line.sku, product=line.product, quantity=line.quantity,
                      unit_price=line.unit_price, discount_percent=line.discount_percent, net_amount=line.net_amount,
                      start_date=line.start_date or start, end_date=line.end_date or end)
        for line in terms.lines
    ]


def missing_items(terms: RequestTerms, start: dt.date, end: dt.date, catalogue: Catalogue) -> list[ActivationMissing]:
    """Each item order sync would miss, in a stable order (the same contract gives the same list)."""
    missing: list[ActivationMissing] = []
    if terms.account.account_id is None:
        missing.append(ActivationMissing(item="account.account_id", rule=rules.ACTIVATION_ACCOUNT_MISSING,
                                         message="the customer's CRM account id is not on the request"))
    if terms.lines and terms.currency is None:
        missing.append(ActivationMissing(item="currency", rule=rules.ACTIVATION_CURRENCY_MISSING,
                                         message="the request's lines have prices but no currency"))
    seen: set[str] = set()
    for i, line in enumerate(activated_lines(terms, start, end)):
        if not (start <= line.start_date <= line.end_date <= end):
            missing.append(ActivationMissing(
                item=f"lines[{i}].dates", rule=rules.ACTIVATION_LINE_DATES,
                message=f"line {line.line_id} ({line.start_date}..{line.end_date}) must lie within {start}..{end}"))
        if line.sku in seen:
            continue
        seen.add(line.sku)
        entry = catalogue.get(line.sku)
        if entry is None:
            missing.append(ActivationMissing(item=line.sku, rule=rules.ACTIVATION_SKU_NOT_IN_CATALOGUE,
                                             message=f"SKU {line.sku} has no catalogue mapping in order sync"))
        elif entry.retired:
            missing.append(ActivationMissing(item=line.sku, rule=rules.ACTIVATION_SKU_RETIRED,
                                             message=f"SKU {line.sku} was retired from the catalogue"))
    return missing


def entitlements_of(lines: list[ActivatedLine], catalogue: Catalogue) -> list[ActivatedEntitlement]:
    """Each line's entitlements from its SKU's catalogue entry, for the line's dates; the usage
    limit is per unit, so it scales with a whole quantity."""
    found = []
    for line in lines:
        for template in catalogue[line.sku].entitlements:
            limit = template.usage_limit
            if limit is not None and line.quantity == line.quantity.to_integral_value():
                limit *= int(line.quantity)
            found.append(ActivatedEntitlement(
                line_id=line.line_id, sku=line.sku, name=template.name, support_level=template.support_level,
                sla=template.sla, features=template.features, usage_limit=limit, usage_unit=template.usage_unit,
                start_date=line.start_date, end_date=line.end_date))
    return found


def skus_of(terms: RequestTerms | None) -> set[str]:
    return {line.sku for line in terms.lines} if terms else set()
