"""A realistic life of a service contract, as order sync publishes it: drafted with lines and
entitlements, activated, changed (MACD), suspended and resumed with what it covers, then expired
with its children; and a second contract canceled. Used by the projection tests and the rebuild test."""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from shared.backbone.kafka import KafkaAccess

from shared.events.base import Event
from shared.events.install_base import (
    InstallBaseItemMoved,
    InstallBaseItemRecorded,
    InstallBaseItemSuspended,
    SoldProductRecorded,
    SoldProductResumed,
    SoldProductSuspended,
)
from shared.events.orders import (
    ContractLineActivated,
    ContractLineAdded,
    ContractLineCanceled,
    ContractLineCoverageChanged,
    ContractLineDatesChanged,
    ContractLineDisconnected,
    ContractLineEdited,
    ContractLineExpired,
    ContractLineQuantityChanged,
    ContractLineRemoved,
    ContractLineResumed,
    ContractLineSuspended,
    ContractLineTerms,
    EntitlementActivated,
    EntitlementAdded,
    EntitlementCanceled,
    EntitlementDatesChanged,
    EntitlementEdited,
    EntitlementExpired,
    EntitlementRemoved,
    EntitlementResumed,
    EntitlementSuspended,
    EntitlementTerms,
    ServiceContractActivated,
    ServiceContractCanceled,
    ServiceContractDatesChanged,
    ServiceContractDrafted,
    ServiceContractExpired,
    ServiceState,
)
from shared.events.envelope import Envelope, to_kafka

D = dt.date
START, END = D(2026, 1, 1), D(2026, 12, 31)


@dataclass
class Story:
    """The ids of one story's contracts and what they cover, and its events in publishing order."""

    account: str
    contract_id: uuid.UUID = field(default_factory=uuid.uuid4)
    canceled_contract_id: uuid.UUID = field(default_factory=uuid.uuid4)
    sold_product_id: uuid.UUID = field(default_factory=uuid.uuid4)
    install_base_item_id: uuid.UUID = field(default_factory=uuid.uuid4)
    lines: dict[str, uuid.UUID] = field(default_factory=lambda: {n: uuid.uuid4() for n in ("support", "onsite", "added", "canceled")})
    entitlements: dict[str, uuid.UUID] = field(
        default_factory=lambda: {n: uuid.uuid4() for n in ("hotline", "portal", "onsite_repair", "spares", "canceled")}
    )

    def install_base(self) -> list[Event]:
        sp, ib = self.sold_product_id, self.install_base_item_id
        return [
            SoldProductRecorded(sold_product_id=sp, account=self.account, product="Robot cell KR-210", quantity=2),
            InstallBaseItemRecorded(install_base_item_id=ib, account=self.account, name="KR-210 #42", site="Plant 1",
                                    sold_product_id=sp, serial_number="SN-0042"),
            SoldProductSuspended(sold_product_id=sp, effective_on=D(2026, 3, 1), reason="unpaid invoice"),
            SoldProductResumed(sold_product_id=sp, effective_on=D(2026, 3, 15)),
            InstallBaseItemMoved(install_base_item_id=ib, from_site="Plant 1", to_site="Plant 2"),
            InstallBaseItemSuspended(install_base_item_id=ib, effective_on=D(2026, 6, 1), reason="decommissioning"),
        ]

    def contract(self) -> list[Event]:
        c, sp, ib, L, E = self.contract_id, self.sold_product_id, self.install_base_item_id, self.lines, self.entitlements
        draft = ServiceState.DRAFT
        return [
            ServiceContractDrafted(
                contract_id=c, number=f"SC-{c.hex[:8]}", account=self.account, start_date=START, end_date=D(2026, 11, 30),
                time_zone="Europe/Berlin",
                lines=[
                    _line(L["support"], "Premium support", 2, "1200.00", sold_product_id=sp, state=draft),
                    _line(L["onsite"], "Onsite service", 1, "800.00", install_base_item_id=ib, state=draft),
                ],
                entitlements=[
                    _entitlement(E["hotline"], "hotline", line_id=L["support"], sold_product_id=sp, state=draft),
                    _entitlement(E["portal"], "customer-portal", state=draft),
                    _entitlement(E["onsite_repair"], "onsite-repair", line_id=L["onsite"], install_base_item_id=ib, state=draft),
                ],
            ),
            ServiceContractDatesChanged(contract_id=c, start_date=START, end_date=END),
            ContractLineDatesChanged(contract_id=c, line_id=L["onsite"], start_date=D(2026, 2, 1), end_date=END),
            ContractLineRemoved(contract_id=c, line_id=L["onsite"]),
            EntitlementRemoved(contract_id=c, entitlement_id=E["onsite_repair"]),
            ServiceContractActivated(contract_id=c, effective_on=START),
            ContractLineActivated(contract_id=c, line_id=L["support"], effective_on=START),
            EntitlementActivated(contract_id=c, entitlement_id=E["hotline"], effective_on=START),
            EntitlementActivated(contract_id=c, entitlement_id=E["portal"], effective_on=START),
            ContractLineAdded(contract_id=c, line=_line(L["added"], "Spare parts", 1, "300.00", start=D(2026, 2, 1),
                                                        state=ServiceState.ACTIVE)),
            EntitlementAdded(contract_id=c, entitlement=_entitlement(E["spares"], "spare-parts", line_id=L["added"],
                                                                     start=D(2026, 2, 1), state=ServiceState.ACTIVE)),
            ContractLineQuantityChanged(contract_id=c, line_id=L["support"], quantity=5, previous_quantity=2),
            ContractLineEdited(contract_id=c, line_id=L["support"], product="Premium support 24/7", unit_price=Decimal("1350.50")),
            ContractLineCoverageChanged(contract_id=c, line_id=L["added"], install_base_item_id=ib),
            EntitlementEdited(contract_id=c, entitlement_id=E["portal"], name="customer-portal", support_level="gold",
                              sla="4h response", features=["remote-diagnostics", "reports"], usage_limit=10, usage_unit="incidents"),
            EntitlementDatesChanged(contract_id=c, entitlement_id=E["portal"], start_date=START, end_date=D(2027, 3, 31)),
            ContractLineSuspended(contract_id=c, line_id=L["support"], effective_on=D(2026, 3, 1)),
            EntitlementSuspended(contract_id=c, entitlement_id=E["hotline"], effective_on=D(2026, 3, 1)),
            ContractLineResumed(contract_id=c, line_id=L["support"], effective_on=D(2026, 3, 15), state=ServiceState.ACTIVE),
            EntitlementResumed(contract_id=c, entitlement_id=E["hotline"], effective_on=D(2026, 3, 15), state=ServiceState.ACTIVE),
            ContractLineDisconnected(contract_id=c, line_id=L["added"], end_date=D(2026, 9, 30), previous_end_date=END),
            ContractLineSuspended(contract_id=c, line_id=L["added"], effective_on=D(2026, 6, 1)),
            EntitlementSuspended(contract_id=c, entitlement_id=E["spares"], effective_on=D(2026, 6, 1)),
            ServiceContractDatesChanged(contract_id=c, start_date=START, end_date=D(2027, 3, 31)),
            ContractLineDatesChanged(contract_id=c, line_id=L["support"], start_date=START, end_date=D(2027, 3, 31)),
            EntitlementExpired(contract_id=c, entitlement_id=E["hotline"], effective_on=D(2027, 1, 1)),
            ServiceContractExpired(contract_id=c, effective_on=D(2027, 4, 1)),
            ContractLineExpired(contract_id=c, line_id=L["support"], effective_on=D(2027, 4, 1)),
            ContractLineExpired(contract_id=c, line_id=L["added"], effective_on=D(2027, 4, 1)),
            EntitlementExpired(contract_id=c, entitlement_id=E["portal"], effective_on=D(2027, 4, 1)),
            EntitlementExpired(contract_id=c, entitlement_id=E["spares"], effective_on=D(2027, 4, 1)),
        ]

    def canceled_contract(self) -> list[Event]:
        c, L, E = self.canceled_contract_id, self.lines, self.entitlements
        return [
            ServiceContractDrafted(
                contract_id=c, number=f"SC-{c.hex[:8]}", account=self.account, start_date=START, end_date=END, time_zone="UTC",
                lines=[_line(L["canceled"], "Remote monitoring", 1, "99.90", state=ServiceState.DRAFT)],
                entitlements=[_entitlement(E["canceled"], "monitoring", line_id=L["canceled"], state=ServiceState.DRAFT)],
            ),
            ServiceContractCanceled(contract_id=c, effective_on=D(2025, 12, 15), reason="customer withdrew"),
            ContractLineCanceled(contract_id=c, line_id=L["canceled"], effective_on=D(2025, 12, 15)),
            EntitlementCanceled(contract_id=c, entitlement_id=E["canceled"], effective_on=D(2025, 12, 15)),
        ]

    def envelopes(self) -> list[Envelope]:
        """Every event of the story with its stream version (per aggregate, counted from 1)."""
        versions: dict[str, int] = {}
        out = []
        for event in self.install_base() + self.contract() + self.canceled_contract():
            versions[event.aggregate_id] = versions.get(event.aggregate_id, 0) + 1
            out.append(Envelope(event, versions[event.aggregate_id]))
        return out


def _line(line_id, product, quantity, unit_price, *, start=START, state, **covers) -> ContractLineTerms:
    return ContractLineTerms(line_id=line_id, product=product, quantity=quantity, unit_price=Decimal(unit_price),
                             start_date=start, end_date=END, state=state, **covers)


def _entitlement(entitlement_id, name, *, line_id=None, start=START, state, **covers) -> EntitlementTerms:
    return EntitlementTerms(entitlement_id=entitlement_id, line_id=line_id, name=name, start_date=start, end_date=END,
                            state=state, **covers)


async def publish(kafka: KafkaAccess, envelopes: list[Envelope]) -> None:
    """Publishes the envelopes as order sync's relay does: CloudEvents keyed by aggregate id, in order."""
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            topic, headers, value, key = to_kafka(envelope)
            await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()
