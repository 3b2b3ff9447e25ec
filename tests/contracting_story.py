"""A contract through phases 4-6 as clm and order sync publish it: routed to legal and finance in
parallel, legal at risk then escalated to the head of legal, both granted, approved; sent to two
signers in order, each invited, the first viewing and signing, the second reminded and signing;
executed; activation blocked for a SKU without a catalogue entry, then activated (v2); the order
created with two lines, one falling out and then fulfilled, the order fulfilled; reconciliation
finding a quantity difference, then reconciled. `first_part` stops at the fallout and the mismatch.
Used by the projection's record test and the rebuild test."""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal

from shared.events.activation import ActivatedLine, ActivationBlocked, ActivationMissing, ContractActivatedV2
from shared.events.approvals import (
    ApprovalAtRisk, ApprovalCompleted, ApprovalEscalated, ApprovalGranted, ApprovalRouted, ApprovalStepOpened,
    Approver, RoutedStep,
)
from shared.events.contracts import Party
from shared.events.documents import DocumentRef
from shared.events.envelope import Envelope
from shared.events.reconciliation import ContractReconciled, Difference, ReconciliationMismatch
from shared.events.sales_orders import OrderCreated, OrderFulfilled, OrderLine, OrderLineFallout, OrderLineFulfilled
from shared.events.signature import (
    ContractExecuted, SignatureRequested, Signer, SignerInvited, SignerReminded, SignerSigned, SignerViewed,
)

T0 = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
START, END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
LEGAL, FINANCE = Approver(kind="role", value="legal_counsel"), Approver(kind="role", value="finance")
HEAD_OF_LEGAL = Approver(kind="user", value="head-of-legal")


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def doc(name: str, byte: str) -> DocumentRef:
    return DocumentRef(document_id=uuid.uuid4(), sha256=byte * 64, size=1000, media_type="application/pdf", filename=name)


@dataclass
class ContractingStory:
    contract_id: uuid.UUID = field(default_factory=uuid.uuid4)
    envelope_id: uuid.UUID = field(default_factory=uuid.uuid4)
    order_id: uuid.UUID = field(default_factory=uuid.uuid4)
    signers: tuple[uuid.UUID, uuid.UUID] = field(default_factory=lambda: (uuid.uuid4(), uuid.uuid4()))
    lines: tuple[uuid.UUID, uuid.UUID] = field(default_factory=lambda: (uuid.uuid4(), uuid.uuid4()))
    order_lines: tuple[uuid.UUID, uuid.UUID] = field(default_factory=lambda: (uuid.uuid4(), uuid.uuid4()))
    signed_document: DocumentRef = field(default_factory=lambda: doc("signed.pdf", "b"))

    @property
    def steps(self) -> tuple[uuid.UUID, uuid.UUID]:
        return tuple(uuid.uuid5(self.contract_id, f"1/{n}") for n in (1, 2))

    def _clm(self) -> list:
        c, legal, finance = self.contract_id, *self.steps
        first, second = self.signers
        signature = dict(contract_id=c, envelope_id=self.envelope_id)
        return [
            ApprovalRouted(contract_id=c, round=1, version_number=2, matrix_id=uuid.UUID(int=7), matrix_version=3, by="sales-ann",
                           at=at(0), steps=[
                               RoutedStep(step_id=legal, name="Legal review", sequence=1, approvers=[LEGAL], sla="P2D",
                                          escalation=[[HEAD_OF_LEGAL]], rule_ids=["non-standard"]),
                               RoutedStep(step_id=finance, name="Finance review", sequence=1, approvers=[FINANCE],
                                          informed_roles=["sales_ops"], sla="P2D", rule_ids=["large-deal"])]),
            ApprovalStepOpened(contract_id=c, step_id=legal, round=1, approvers=[LEGAL], opened_at=at(0),
                               at_risk_at=at(36), due_at=at(48)),
            ApprovalStepOpened(contract_id=c, step_id=finance, round=1, approvers=[FINANCE], opened_at=at(0),
                               at_risk_at=at(36), due_at=at(48)),
            ApprovalGranted(contract_id=c, step_id=finance, by="fin-fred", roles=["finance"], comment="fine", at=at(5)),
            ApprovalAtRisk(contract_id=c, step_id=legal, level=0, due_at=at(48), at=at(36)),
            ApprovalEscalated(contract_id=c, step_id=legal, from_level=0, to_level=1, approvers=[HEAD_OF_LEGAL], at=at(48)),
            ApprovalStepOpened(contract_id=c, step_id=legal, round=1, level=1, approvers=[HEAD_OF_LEGAL], opened_at=at(48),
                               at_risk_at=at(84), due_at=at(96)),
            ApprovalGranted(contract_id=c, step_id=legal, by="head-of-legal", roles=["legal_counsel"], at=at(50)),
            ApprovalCompleted(contract_id=c, round=1, version_number=2, at=at(50)),
            SignatureRequested(**signature, version_number=2, document=doc("v2.docx", "a"), provider="builtin",
                               signers=[Signer(signer_id=first, name="Ann Buyer", email="ann@acme.example", role="customer",
                                               routing_order=1),
                                        Signer(signer_id=second, name="Carla CM", email="carla@vendor.example",
                                               role="internal", routing_order=2)],
                               deadline=at(24 * 14), reminder_every_days=3, by="cm-carla", at=at(51)),
            SignerInvited(**signature, signer_id=first, routing_order=1, link_expires_at=at(24 * 7), at=at(51)),
            SignerViewed(**signature, signer_id=first, at=at(52), ip="198.51.100.7", user_agent="Mobile Safari"),
            SignerSigned(**signature, signer_id=first, at=at(53), typed_name="Ann Buyer"),
            SignerInvited(**signature, signer_id=second, routing_order=2, at=at(53)),
            SignerReminded(**signature, signer_id=second, at=at(53 + 72)),
            SignerSigned(**signature, signer_id=second, at=at(130), typed_name="Carla CM"),
            ContractExecuted(**signature, version_number=2, signed_document=self.signed_document,
                             audit_certificate=doc("audit.pdf", "c"), start_date=START, end_date=END, time_zone="UTC",
                             executed_at=at(130)),
            ActivationBlocked(contract_id=c, at=at(24 * 60), missing=[ActivationMissing(
                item="SUP-PLAT", rule="activation.sku_not_in_catalogue", message="SUP-PLAT has no catalogue entry")]),
            self.activated(),
        ]

    def activated(self) -> ContractActivatedV2:
        return ContractActivatedV2(
            contract_id=self.contract_id, number="CNT-STORY", title="Platinum support", contract_model="service_contract",
            parties=[Party(role="customer", name="ACME Robotics")], start_date=START, end_date=END, time_zone="UTC",
            executed_version=2, signed_document_sha256=self.signed_document.sha256, activated_at=at(24 * 61),
            lines=[ActivatedLine(line_id=line, sku="SUP-PLAT", product="Platinum support", quantity=Decimal(2),
                                 unit_price=Decimal(100), net_amount=Decimal(200), start_date=START, end_date=END)
                   for line in self.lines])

    def _order(self) -> list:
        o, c = self.order_id, self.contract_id
        lines = [OrderLine(order_line_id=ol, contract_line_id=cl, sku="SUP-PLAT", product="Platinum support",
                           quantity=Decimal(2), unit_price=Decimal(100), net_amount=Decimal(200), start_date=START,
                           end_date=END) for ol, cl in zip(self.order_lines, self.lines)]
        return [
            OrderCreated(order_id=o, contract_id=c, account="ACME Robotics", currency="EUR", lines=lines, at=at(24 * 61)),
            OrderLineFulfilled(order_id=o, contract_id=c, order_line_id=self.order_lines[0], service_contract_id=c,
                               service_line_id=self.lines[0], at=at(24 * 61)),
            OrderLineFallout(order_id=o, contract_id=c, order_line_id=self.order_lines[1], rule="catalogue.entry_retired",
                             message="SUP-PLAT was retired", attempt=1, at=at(24 * 61)),
            OrderLineFulfilled(order_id=o, contract_id=c, order_line_id=self.order_lines[1], service_contract_id=c,
                               service_line_id=self.lines[1], at=at(24 * 62)),
            OrderFulfilled(order_id=o, contract_id=c, service_contract_id=c, at=at(24 * 62)),
        ]

    def mismatch(self) -> Difference:
        return Difference(kind="line", item=str(self.lines[1]), field="presence", signed="Platinum support", active=None)

    def _reconciliation(self) -> list:
        c = self.contract_id
        return [ReconciliationMismatch(contract_id=c, difference=self.mismatch(), detected_at=at(24 * 61)),
                ContractReconciled(contract_id=c, reconciled_at=at(24 * 62))]

    @cached_property
    def _streams(self) -> list[list[Envelope]]:
        """Each stream's envelopes in order, with their stream versions (clm's after its phases 1-3);
        made once, so the same envelope (event id) each time it is asked for."""
        return [[Envelope(e, version, time=at(i)) for i, (version, e) in enumerate(enumerate(events, start=start))]
                for events, start in ((self._clm(), 20), (self._order(), 1), (self._reconciliation(), 1))]

    def first_part(self) -> list[Envelope]:
        """Up to the fallout (clm's stream whole, the order's first three, the mismatch)."""
        clm, order, reconciliation = self._streams
        return clm + order[:3] + reconciliation[:1]

    def rest(self) -> list[Envelope]:
        _, order, reconciliation = self._streams
        return order[3:] + reconciliation[1:]

    def envelopes(self) -> list[Envelope]:
        return self.first_part() + self.rest()
