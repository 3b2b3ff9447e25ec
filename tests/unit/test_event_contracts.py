"""The published event contracts: generated files in sync with the models, every event routable and
round-tripping through the Kafka envelope, and consumers tolerant of fields added later."""

import datetime as dt
import json
import uuid

import jsonschema
import pytest
import yaml

from decimal import Decimal

from shared.events.install_base import (
    InstallBaseItemMoved,
    InstallBaseItemRecorded,
    InstallBaseItemResumed,
    InstallBaseItemSuspended,
    SoldProductRecorded,
    SoldProductResumed,
    SoldProductSuspended,
)
from shared.events.lifecycle import DueTransition, QuoteValidityEnded, ServiceContractDateReached
from shared.events.operational_dates import OperationalContractEndReached, OperationalContractStartReached
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
)
from shared.events import ALL_EVENTS, export, topics
from shared.events.base import Event
from shared.events.contracts import (
    ClassificationReason, ContractActivated, ContractAssigned, ContractClassified, ContractDrafted, ContractRequested,
    ContractRequestEnriched, ContractRequestStateChanged, Party, RequestedAccount, RequestedDeal,
)
from shared.events.link_dates import AssetLinkDateReached, link_id
from shared.events.renewal_deadlines import RenewalDeadlineReached
from shared.events.renewal_tasks import (
    RenewalTaskCompleted, RenewalTaskDeadlineReached, RenewalTaskOpened, RenewalTaskSuperseded, renewal_task_id,
)
from shared.events.assets import AssetDetails, AssetRegistered, AssetRevised, CoverageLapsed, CoverageRestored
from shared.events.change_windows import (
    ChangeWindowCanceled, ChangeWindowOverlapFlagged, ChangeWindowPlan, ChangeWindowPlanned, ChangeWindowRevised,
)
from shared.events.coverage import (
    AssetLinked, AssetLinkRevised, AssetUnlinked, Costs, CoverageOpened, OperationalContractActivated,
    OperationalContractCanceled, OperationalContractExpired, OperationalTerms, OperationalTermsSet, ServiceLevel,
    VendorContractRegistered, VendorContractRevised, VendorContractTerms,
)
from shared.events.lifecycle import ContractExpired, ExpiryScheduled
from shared.events.orders import ServiceContractRecorded
from shared.events.envelope import Envelope, from_kafka, to_kafka
from shared.events.comments import CommentAdded, CommentThreadReopened, CommentThreadResolved
from shared.events.documents import DocumentRef
from shared.events.negotiation import (
    ContractVersionAdded, DeviationCleared, DeviationFlagged, NegotiatedTerms, NegotiatedTermsRecorded, VersionClause,
)
from shared.events.library import (
    ClauseSlot, ClauseVariant, ClauseVersionPublished, TemplateSection, TemplateVariable, TemplateVersionPublished, VariantRule,
)
from shared.events.quotes import Account, DealFields, QuoteApproved, QuoteDrafted, QuoteExpired, QuoteLine, QuoteRejected, QuoteRevised

CONTRACT_ID = uuid.UUID("0b7c5c1e-3f5e-4d8a-9a51-2f1d8e6b7a10")
TERMS = dict(
    contract_id=CONTRACT_ID, number="CNT-2026-0042", title="Maintenance of line 4", contract_model="service_contract",
    parties=[Party(role="customer", name="ACME Robotics")], start_date=dt.date(2026, 1, 1),
    end_date=dt.date(2026, 12, 31), time_zone="Europe/Berlin",
)
# One realistic instance per event version; a new event needs one here before it can ship.
SAMPLES: dict[type[Event], Event] = {
    ContractDrafted: ContractDrafted(**TERMS),
    ContractActivated: ContractActivated(**TERMS),
    CoverageOpened: CoverageOpened(contract_id=CONTRACT_ID, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31)),
    AssetLinked: AssetLinked(contract_id=CONTRACT_ID, asset_id="CNC-0815", asset_name="CNC mill, line 4"),
    ServiceContractRecorded: ServiceContractRecorded(
        contract_id=CONTRACT_ID, number="SC-1001", account="ACME Robotics",
        start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
    ),
    ExpiryScheduled: ExpiryScheduled(
        contract_id=CONTRACT_ID, end_date=dt.date(2026, 12, 31), time_zone="Europe/Berlin",
        due_at=dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC),
    ),
    ContractExpired: ContractExpired(
        contract_id=CONTRACT_ID, end_date=dt.date(2026, 12, 31), expired_at=dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC),
    ),
}
LINE_ID, ENTITLEMENT_ID = uuid.UUID(int=11), uuid.UUID(int=12)
SOLD_PRODUCT_ID, ITEM_ID = uuid.UUID(int=21), uuid.UUID(int=22)
ON = dt.date(2026, 3, 1)
LINE = ContractLineTerms(
    line_id=LINE_ID, product="Premium support", quantity=3, unit_price=Decimal("1200.00"),
    start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), sold_product_id=SOLD_PRODUCT_ID, state="draft",
)
ENTITLEMENT = EntitlementTerms(
    entitlement_id=ENTITLEMENT_ID, line_id=LINE_ID, name="onsite-repair", support_level="gold", sla="4h response",
    features=["remote-diagnostics"], usage_limit=10, usage_unit="incidents",
    start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), state="draft",
)
SC = dict(contract_id=CONTRACT_ID)
SAMPLES |= {
    ServiceContractDrafted: ServiceContractDrafted(
        **SC, number="SC-1002", account="ACME Robotics", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
        time_zone="Europe/Berlin", lines=[LINE], entitlements=[ENTITLEMENT],
    ),
    ServiceContractDatesChanged: ServiceContractDatesChanged(**SC, start_date=dt.date(2026, 1, 1), end_date=dt.date(2027, 6, 30)),
    ServiceContractActivated: ServiceContractActivated(**SC, effective_on=ON),
    ServiceContractExpired: ServiceContractExpired(**SC, effective_on=ON),
    ServiceContractCanceled: ServiceContractCanceled(**SC, effective_on=ON, reason="customer left"),
    ContractLineAdded: ContractLineAdded(**SC, line=LINE),
    ContractLineRemoved: ContractLineRemoved(**SC, line_id=LINE_ID),
    ContractLineDatesChanged: ContractLineDatesChanged(**SC, line_id=LINE_ID, start_date=ON, end_date=dt.date(2026, 6, 30)),
    ContractLineQuantityChanged: ContractLineQuantityChanged(**SC, line_id=LINE_ID, quantity=5, previous_quantity=3),
    ContractLineEdited: ContractLineEdited(**SC, line_id=LINE_ID, product="Premium support+", unit_price=Decimal("99.50")),
    ContractLineCoverageChanged: ContractLineCoverageChanged(**SC, line_id=LINE_ID, install_base_item_id=ITEM_ID),
    ContractLineDisconnected: ContractLineDisconnected(**SC, line_id=LINE_ID, end_date=ON, previous_end_date=dt.date(2026, 12, 31)),
    ContractLineActivated: ContractLineActivated(**SC, line_id=LINE_ID, effective_on=ON),
    ContractLineSuspended: ContractLineSuspended(**SC, line_id=LINE_ID, effective_on=ON),
    ContractLineResumed: ContractLineResumed(**SC, line_id=LINE_ID, effective_on=ON, state="active"),
    ContractLineExpired: ContractLineExpired(**SC, line_id=LINE_ID, effective_on=ON),
    ContractLineCanceled: ContractLineCanceled(**SC, line_id=LINE_ID, effective_on=ON),
    EntitlementAdded: EntitlementAdded(**SC, entitlement=ENTITLEMENT),
    EntitlementRemoved: EntitlementRemoved(**SC, entitlement_id=ENTITLEMENT_ID),
    EntitlementDatesChanged: EntitlementDatesChanged(**SC, entitlement_id=ENTITLEMENT_ID, start_date=ON, end_date=dt.date(2026, 6, 30)),
    EntitlementEdited: EntitlementEdited(
        **SC, entitlement_id=ENTITLEMENT_ID, name="onsite-repair", support_level="platinum", sla="2h response",
        features=[], usage_limit=None, usage_unit=None,
    ),
    EntitlementActivated: EntitlementActivated(**SC, entitlement_id=ENTITLEMENT_ID, effective_on=ON),
    EntitlementSuspended: EntitlementSuspended(**SC, entitlement_id=ENTITLEMENT_ID, effective_on=ON),
    EntitlementResumed: EntitlementResumed(**SC, entitlement_id=ENTITLEMENT_ID, effective_on=ON, state="expired"),
    EntitlementExpired: EntitlementExpired(**SC, entitlement_id=ENTITLEMENT_ID, effective_on=ON),
    EntitlementCanceled: EntitlementCanceled(**SC, entitlement_id=ENTITLEMENT_ID, effective_on=ON),
    SoldProductRecorded: SoldProductRecorded(sold_product_id=SOLD_PRODUCT_ID, account="ACME Robotics", product="CNC mill", quantity=2),
    SoldProductSuspended: SoldProductSuspended(sold_product_id=SOLD_PRODUCT_ID, effective_on=ON, reason="unpaid"),
    SoldProductResumed: SoldProductResumed(sold_product_id=SOLD_PRODUCT_ID, effective_on=ON),
    InstallBaseItemRecorded: InstallBaseItemRecorded(
        install_base_item_id=ITEM_ID, account="ACME Robotics", name="CNC mill #1", site="Plant 4",
        sold_product_id=SOLD_PRODUCT_ID, serial_number="SN-0815",
    ),
    InstallBaseItemMoved: InstallBaseItemMoved(install_base_item_id=ITEM_ID, from_site="Plant 4", to_site="Plant 7"),
    InstallBaseItemSuspended: InstallBaseItemSuspended(install_base_item_id=ITEM_ID, effective_on=ON),
    InstallBaseItemResumed: InstallBaseItemResumed(install_base_item_id=ITEM_ID, effective_on=ON),
    ServiceContractDateReached: ServiceContractDateReached(
        **SC, date=dt.date(2027, 1, 1), time_zone="Europe/Berlin", reached_at=dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC),
        due=[DueTransition(item_kind="contract", item_id=CONTRACT_ID, transition="expiry",
                              due_at=dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC))],
    ),
}
QUOTE_ID = uuid.UUID("5d0f8a52-7c1b-4f7e-9a3e-6b1e2c3d4f50")
QUOTE_TERMS = dict(
    quote_id=QUOTE_ID, number="Q-2026-0117", account=Account(account_id="ACC-77", name="ACME Robotics"),
    opportunity_id="OPP-4411", currency="EUR", term_months=36, billing_frequency="annual",
    valid_until=dt.date(2026, 12, 31), time_zone="Europe/Berlin",
    lines=[QuoteLine(line_id=LINE_ID, sku="SUP-PREM", product="Premium support", quantity=Decimal(2),
                     unit_price=Decimal("1200.00"), discount_percent=Decimal("10"), net_amount=Decimal("2160.00"))],
    deal=DealFields(region="EU", industry="manufacturing", risk_tier="high", data_residency="EU",
                    deal_size=Decimal("2160.00"), max_discount_percent=Decimal("10")),
)
SAMPLES |= {
    QuoteDrafted: QuoteDrafted(**QUOTE_TERMS),
    QuoteRevised: QuoteRevised(**QUOTE_TERMS),
    QuoteApproved: QuoteApproved(**QUOTE_TERMS, approved_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
                                 approved_by="sales-ann"),
    QuoteRejected: QuoteRejected(quote_id=QUOTE_ID, rejected_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
                                 reason="budget cut"),
    QuoteExpired: QuoteExpired(quote_id=QUOTE_ID, valid_until=dt.date(2026, 12, 31),
                               expired_at=dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)),
}
SAMPLES |= {
    QuoteValidityEnded: QuoteValidityEnded(quote_id=QUOTE_ID, valid_until=dt.date(2026, 12, 31), time_zone="Europe/Berlin",
                                           ended_at=dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)),
}
CLAUSE_ID = uuid.UUID("7a1e2f3c-4b5d-4e6f-8a9b-0c1d2e3f4a51")
TEMPLATE_ID = uuid.UUID("8b2f3a4d-5c6e-4f70-9b1c-2d3e4f5a6b62")
SAMPLES |= {
    ClauseVersionPublished: ClauseVersionPublished(
        clause_id=CLAUSE_ID, version=2, key="limitation_of_liability", title="Limitation of liability",
        text="Each party's total liability is limited to {{ liability_cap }}.",
        fallbacks=[ClauseVariant(name="mutual_cap", text="Liability is capped at {{ liability_cap }} for both parties.")],
        variables=["liability_cap"],
    ),
    TemplateVersionPublished: TemplateVersionPublished(
        template_id=TEMPLATE_ID, version=1, kind="msa", name="Master services agreement",
        sections=[TemplateSection(heading="Risk", slots=[ClauseSlot(
            clause_id=CLAUSE_ID, clause_version=2, include_when='risk_tier != "low"',
            variants=[VariantRule(when="deal_size > 250000.0", use="mutual_cap")])])],
        variables=[TemplateVariable(name="liability_cap", type="string", required=True)], pricing_appendix=True,
    ),
}
REQUESTED_AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
SAMPLES |= {
    ContractRequested: ContractRequested(
        contract_id=CONTRACT_ID, number="CNT-5D0F8A527C", origin="quote", quote_id=QUOTE_ID, quote_number="Q-2026-0117",
        opportunity_id="OPP-4411", title="ACME Robotics: quote Q-2026-0117",
        account=RequestedAccount(account_id="ACC-77", name="ACME Robotics"), currency="EUR", term_months=36,
        billing_frequency="annual", time_zone="Europe/Berlin", lines=QUOTE_TERMS["lines"],
        deal=RequestedDeal(**QUOTE_TERMS["deal"].model_dump()), desired_start_date=dt.date(2027, 1, 1),
        state="new", requested_by="sales-ann", requested_at=REQUESTED_AT,
    ),
    ContractRequestEnriched: ContractRequestEnriched(
        contract_id=CONTRACT_ID, title="Robot fleet service 2027", deal=RequestedDeal(region="EU", risk_tier="medium"),
        by="sales-ann", at=REQUESTED_AT),
    ContractRequestStateChanged: ContractRequestStateChanged(
        contract_id=CONTRACT_ID, from_state="new", to_state="work_in_progress", by="counsel-lena", at=REQUESTED_AT),
    ContractClassified: ContractClassified(
        contract_id=CONTRACT_ID, classification="high_risk", previous="standard", by="rules", at=REQUESTED_AT,
        reasons=[ClassificationReason(rule="classification.risk_tier_high", message="the risk tier is high")]),
    ContractAssigned: ContractAssigned(
        contract_id=CONTRACT_ID, assignee="counsel-lena", assignee_role="legal_counsel", by="cm-max", at=REQUESTED_AT),
}
DOCUMENT = DocumentRef(document_id=uuid.UUID(int=21), sha256="0" * 64, size=18_432,
                       media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                       filename="msa-v2.docx")
SAMPLES |= {
    ContractVersionAdded: ContractVersionAdded(
        contract_id=CONTRACT_ID, version_number=2, origin="counterparty_upload", author="sales-ann",
        added_at=REQUESTED_AT, document=DOCUMENT,
        clauses=[VersionClause(number="7", heading="Limitation of liability", text="Liability is capped at EUR 500,000.",
                               clause_id=CLAUSE_ID, clause_version=2, variant="standard", match="standard", score=98.5)],
        terms=NegotiatedTerms(liability_cap=Decimal("500000"), liability_cap_currency="EUR", governing_law="Germany"),
    ),
    DeviationFlagged: DeviationFlagged(
        contract_id=CONTRACT_ID, deviation_id=uuid.UUID(int=31), version_number=2, kind="term_changed",
        clause_number="7", heading="Limitation of liability", term="liability_cap", before="EUR 1000000",
        after="EUR 500000", flagged_at=REQUESTED_AT),
    DeviationCleared: DeviationCleared(contract_id=CONTRACT_ID, deviation_id=uuid.UUID(int=31), version_number=3,
                                       cleared_at=REQUESTED_AT),
    NegotiatedTermsRecorded: NegotiatedTermsRecorded(
        contract_id=CONTRACT_ID, terms=NegotiatedTerms(payment_days=45), by="counsel-lena", at=REQUESTED_AT),
    CommentAdded: CommentAdded(
        thread_id=uuid.UUID(int=41), contract_id=CONTRACT_ID, comment_id=uuid.UUID(int=41), version_number=2,
        clause_number="7", text="We cannot accept a cap below EUR 1m.", author="counsel-lena", at=REQUESTED_AT),
    CommentThreadResolved: CommentThreadResolved(thread_id=uuid.UUID(int=41), contract_id=CONTRACT_ID,
                                                 by="counsel-lena", at=REQUESTED_AT, note="agreed on EUR 1m"),
    CommentThreadReopened: CommentThreadReopened(thread_id=uuid.UUID(int=41), contract_id=CONTRACT_ID,
                                                 by="sales-ann", at=REQUESTED_AT),
}
# Operations (docs/design/operations.md)
ROBOT = AssetDetails(kind="robot", name="KUKA KR 210, cell 7", model="KR 210 R2700", site="Plant 4",
                     criticality="critical", owner="ot-maria")
VENDOR_TERMS = VendorContractTerms(
    number="VC-0001", vendor="KUKA Service GmbH", vendor_contract_number="KS-2026-118", name="Robot maintenance, Plant 4",
    customer="ACME Manufacturing", contract_model="maintenance", start_date=dt.date(2026, 1, 1),
    end_date=dt.date(2026, 12, 31), time_zone="Europe/Berlin")
OPERATIONAL = OperationalTerms(
    sla=ServiceLevel(response_hours=Decimal("4"), resolution_hours=Decimal("24"), service_hours="24x7"),
    costs=Costs(currency="EUR", payment_amount=Decimal("12000.00"), payment_schedule="quarterly", cost_center="CC-4711",
                po_number="PO-99812"),
    owners=["ot-maria", "maria@example.com"])
SAMPLES |= {
    AssetRegistered: AssetRegistered(asset_id="ROB-0007", details=ROBOT),
    AssetRevised: AssetRevised(asset_id="ROB-0007", details=ROBOT.model_copy(update={"site": "Plant 5"}), changed=["site"]),
    CoverageLapsed: CoverageLapsed(asset_id="ROB-0007", on=dt.date(2027, 1, 1), last_contract_id=CONTRACT_ID,
                                   reason="contract_expired"),
    CoverageRestored: CoverageRestored(asset_id="ROB-0007", on=dt.date(2027, 1, 1), contract_ids=[CONTRACT_ID]),
    VendorContractRegistered: VendorContractRegistered(contract_id=CONTRACT_ID, terms=VENDOR_TERMS, operational=OPERATIONAL),
    VendorContractRevised: VendorContractRevised(
        contract_id=CONTRACT_ID, terms=VENDOR_TERMS.model_copy(update={"end_date": dt.date(2027, 12, 31)}),
        changed=["end_date"]),
    OperationalTermsSet: OperationalTermsSet(contract_id=CONTRACT_ID, operational=OPERATIONAL, changed=["sla"]),
    OperationalContractActivated: OperationalContractActivated(contract_id=CONTRACT_ID, on=dt.date(2026, 1, 1)),
    OperationalContractExpired: OperationalContractExpired(contract_id=CONTRACT_ID, end_date=dt.date(2026, 12, 31)),
    OperationalContractCanceled: OperationalContractCanceled(contract_id=CONTRACT_ID, effective_on=dt.date(2026, 6, 1),
                                                             reason="plant closed"),
    AssetLinkRevised: AssetLinkRevised(contract_id=CONTRACT_ID, asset_id="CNC-0815", effective_from=dt.date(2026, 3, 1),
                                       effective_to=None),
    AssetUnlinked: AssetUnlinked(contract_id=CONTRACT_ID, asset_id="CNC-0815", reason="linked in error"),
}
SAMPLES |= {
    OperationalContractStartReached: OperationalContractStartReached(
        contract_id=CONTRACT_ID, start_date=dt.date(2026, 1, 1), time_zone="Europe/Berlin",
        reached_at=dt.datetime(2025, 12, 31, 23, tzinfo=dt.UTC)),
    OperationalContractEndReached: OperationalContractEndReached(
        contract_id=CONTRACT_ID, end_date=dt.date(2026, 12, 31), time_zone="Europe/Berlin",
        reached_at=dt.datetime(2026, 12, 31, 23, tzinfo=dt.UTC)),
}
# Change windows (docs/design/operations.md, "Change windows and calendar feeds")
WINDOW_ID = uuid.UUID("5b0c6a1e-8f1f-4f4e-9a51-6f1d2f0c7a11")
WINDOW_PLAN = ChangeWindowPlan(
    title="KUKA warranty visit, cell 7", description="Gearbox inspection", time_zone="Europe/Berlin",
    starts_at=dt.datetime(2027, 3, 2, 8, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ends_at=dt.datetime(2027, 3, 2, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    asset_ids=["ROB-0007"], site="Plant 4", contract_id=CONTRACT_ID, vendor="KUKA Service GmbH", owner="ot-maria")
SAMPLES |= {
    ChangeWindowPlanned: ChangeWindowPlanned(window_id=WINDOW_ID, plan=WINDOW_PLAN),
    ChangeWindowRevised: ChangeWindowRevised(window_id=WINDOW_ID, plan=WINDOW_PLAN.model_copy(update={"title": "Visit"}),
                                             changed=["title"]),
    ChangeWindowCanceled: ChangeWindowCanceled(window_id=WINDOW_ID, reason="vendor postponed",
                                               canceled_at=dt.datetime(2027, 2, 20, 9, tzinfo=dt.UTC)),
    ChangeWindowOverlapFlagged: ChangeWindowOverlapFlagged(
        window_id=WINDOW_ID, other_window_id=uuid.UUID("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"),
        shared_asset_ids=["ROB-0007"], shared_site="Plant 4"),
}
SAMPLES |= {
    AssetLinkDateReached: AssetLinkDateReached(
        link_id=link_id(CONTRACT_ID, "CNC-0815"),
        contract_id=CONTRACT_ID, asset_id="CNC-0815", which="end", on=dt.date(2026, 7, 1),
        reached_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC)),
    RenewalDeadlineReached: RenewalDeadlineReached(
        task_id=renewal_task_id(CONTRACT_ID, dt.date(2026, 12, 31)), contract_id=CONTRACT_ID, end_date=dt.date(2026, 12, 31),
        days_before=30, reached_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
    RenewalTaskOpened: RenewalTaskOpened(
        task_id=renewal_task_id(CONTRACT_ID, dt.date(2026, 12, 31)), contract_id=CONTRACT_ID, end_date=dt.date(2026, 12, 31),
        days_before=90, title="Renew KUKA maintenance (ends 2026-12-31)", assignees=["ot-lead@plant4.example", "role:asset_manager"]),
    RenewalTaskDeadlineReached: RenewalTaskDeadlineReached(task_id=renewal_task_id(CONTRACT_ID, dt.date(2026, 12, 31)),
                                                           days_before=30),
    RenewalTaskCompleted: RenewalTaskCompleted(task_id=renewal_task_id(CONTRACT_ID, dt.date(2026, 12, 31)), by="u-17",
                                               note="renewed for a year"),
    RenewalTaskSuperseded: RenewalTaskSuperseded(task_id=renewal_task_id(CONTRACT_ID, dt.date(2026, 12, 31)),
                                                 reason="end_date_moved"),
}
GENERATED = export.generate()
ASYNCAPI = yaml.safe_load(GENERATED[export.ASYNCAPI])
HEADERS = ASYNCAPI["components"]["schemas"]["CloudEventHeaders"]
# -- phases 4-6: approvals, signature, activation, orders, reconciliation -------------------------
from decimal import Decimal as _D  # noqa: E402

from shared.events.activation import (  # noqa: E402
    ActivatedEntitlement, ActivatedLine, ActivationBlocked, ActivationMissing, ContractActivatedV2, RenewalRules,
)
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached  # noqa: E402
from shared.events.approvals import (  # noqa: E402
    ApprovalAtRisk, ApprovalCompleted, ApprovalEscalated, ApprovalGranted, ApprovalMatrixPublished, ApprovalRejected,
    ApprovalRouted, ApprovalRule, ApprovalsInvalidated, ApprovalStepOpened, ApprovalStepSpec, Approver, RoutedStep,
)
from shared.events.catalogue import CatalogueEntryPublished, CatalogueEntryRetired, EntitlementTemplate  # noqa: E402
from shared.events.contract_starts import ContractStartReached  # noqa: E402
from shared.events.reconciliation import ContractReconciled, Difference, ReconciliationMismatch  # noqa: E402
from shared.events.sales_orders import OrderCreated, OrderFulfilled, OrderLine, OrderLineFallout, OrderLineFulfilled  # noqa: E402
from shared.events.signature import (  # noqa: E402
    ContractExecuted, SignatureCanceled, SignatureExpired, SignatureRequested, Signer, SignerDeclined, SignerInvited,
    SignerReminded, SignerSigned, SignerViewed,
)
from shared.events.signature_dates import SignatureDeadlineReached, SignatureReminderDue  # noqa: E402

AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
MATRIX_ID = uuid.UUID("1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5")
STEP_ID = uuid.UUID("2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6")
ENVELOPE_ID = uuid.UUID("3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7")
SIGNER_ID = uuid.UUID("4f5a6b7c-8d9e-4fa0-b1c2-d3e4f5a6b7c8")
ORDER_ID = uuid.UUID("5a6b7c8d-9eaf-4b01-c2d3-e4f5a6b7c8d9")
LINE_ID = uuid.UUID("6b7c8d9e-af01-4c12-d3e4-f5a6b7c8d9ea")
LEGAL = Approver(kind="role", value="legal_counsel")
FINANCE = Approver(kind="role", value="finance")
STEP_SPEC = ApprovalStepSpec(name="Legal review", sequence=1, approvers=[LEGAL], informed_roles=["contract_manager"],
                             sla="P2D", escalation=[[Approver(kind="user", value="head-of-legal")]])
ROUTED_STEP = RoutedStep(step_id=STEP_ID, name="Legal review", sequence=1, approvers=[LEGAL], sla="P2D",
                         escalation=[[Approver(kind="user", value="head-of-legal")]], rule_ids=["non-standard"])
SIGNER = Signer(signer_id=SIGNER_ID, name="Ann Buyer", email="ann@acme.example", role="customer", routing_order=1)
ACTIVATED_LINE = ActivatedLine(line_id=LINE_ID, sku="SUP-GOLD", product="Gold support", quantity=_D(10),
                               unit_price=_D("120.00"), discount_percent=_D(5), net_amount=_D("1140.00"),
                               start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
SAMPLES |= {
    ApprovalMatrixPublished: ApprovalMatrixPublished(
        matrix_id=MATRIX_ID, version=1, name="Default", published_by="cm-carla", published_at=AT,
        rules=[ApprovalRule(rule_id="non-standard", name="Non-standard language", condition="non_standard_clauses > 0",
                            steps=[STEP_SPEC])]),
    ApprovalRouted: ApprovalRouted(contract_id=CONTRACT_ID, round=1, version_number=2, matrix_id=MATRIX_ID,
                                   matrix_version=1, steps=[ROUTED_STEP], by="sales-ann", at=AT),
    ApprovalStepOpened: ApprovalStepOpened(contract_id=CONTRACT_ID, step_id=STEP_ID, round=1, level=0, approvers=[LEGAL],
                                           opened_at=AT, at_risk_at=AT + dt.timedelta(hours=36),
                                           due_at=AT + dt.timedelta(days=2)),
    ApprovalGranted: ApprovalGranted(contract_id=CONTRACT_ID, step_id=STEP_ID, by="legal-lee", roles=["legal_counsel"],
                                     comment="fine", at=AT),
    ApprovalRejected: ApprovalRejected(contract_id=CONTRACT_ID, step_id=STEP_ID, by="fin-fay", roles=["finance"],
                                       comment="discount too deep", closed_step_ids=[STEP_ID], at=AT),
    ApprovalAtRisk: ApprovalAtRisk(contract_id=CONTRACT_ID, step_id=STEP_ID, level=0, due_at=AT, at=AT),
    ApprovalEscalated: ApprovalEscalated(contract_id=CONTRACT_ID, step_id=STEP_ID, from_level=0, to_level=1,
                                         approvers=[Approver(kind="user", value="head-of-legal")], at=AT),
    ApprovalCompleted: ApprovalCompleted(contract_id=CONTRACT_ID, round=1, version_number=2, at=AT),
    ApprovalsInvalidated: ApprovalsInvalidated(contract_id=CONTRACT_ID, round=1, version_number=3,
                                               reason="version 3 added after approval", closed_step_ids=[], by="legal-lee",
                                               at=AT),
    ApprovalStepAtRiskReached: ApprovalStepAtRiskReached(step_id=STEP_ID, contract_id=CONTRACT_ID, level=0, due_at=AT,
                                                         reached_at=AT),
    ApprovalStepDeadlineReached: ApprovalStepDeadlineReached(step_id=STEP_ID, contract_id=CONTRACT_ID, level=0,
                                                             due_at=AT, reached_at=AT),
    SignatureRequested: SignatureRequested(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, version_number=2,
                                           document=DOCUMENT, provider="builtin", signers=[SIGNER],
                                           deadline=AT + dt.timedelta(days=14), reminder_every_days=3, by="cm-carla", at=AT),
    SignerInvited: SignerInvited(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, signer_id=SIGNER_ID, routing_order=1,
                                 link_expires_at=AT + dt.timedelta(days=14), at=AT),
    SignerReminded: SignerReminded(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, signer_id=SIGNER_ID, at=AT),
    SignerViewed: SignerViewed(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, signer_id=SIGNER_ID, at=AT,
                               ip="203.0.113.7", user_agent="Mozilla/5.0"),
    SignerSigned: SignerSigned(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, signer_id=SIGNER_ID, at=AT,
                               ip="203.0.113.7", user_agent="Mozilla/5.0", typed_name="Ann Buyer"),
    SignerDeclined: SignerDeclined(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, signer_id=SIGNER_ID, at=AT,
                                   reason="liability cap", provider_event_id="evt-9"),
    SignatureExpired: SignatureExpired(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, at=AT),
    SignatureCanceled: SignatureCanceled(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, reason="wrong signer",
                                         by="cm-carla", at=AT),
    ContractExecuted: ContractExecuted(contract_id=CONTRACT_ID, envelope_id=ENVELOPE_ID, version_number=2,
                                       signed_document=DOCUMENT, audit_certificate=DOCUMENT,
                                       start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
                                       time_zone="Europe/Berlin", executed_at=AT),
    SignatureReminderDue: SignatureReminderDue(envelope_id=ENVELOPE_ID, contract_id=CONTRACT_ID, signer_id=SIGNER_ID,
                                               number=1, due_at=AT),
    SignatureDeadlineReached: SignatureDeadlineReached(envelope_id=ENVELOPE_ID, contract_id=CONTRACT_ID, deadline=AT),
    ContractStartReached: ContractStartReached(contract_id=CONTRACT_ID, start_date=dt.date(2026, 1, 1),
                                               time_zone="Europe/Berlin", reached_at=AT),
    ActivationBlocked: ActivationBlocked(contract_id=CONTRACT_ID, at=AT, missing=[ActivationMissing(
        item="SUP-GOLD", rule="activation.sku_not_in_catalogue", message="SKU SUP-GOLD has no catalogue entry")]),
    ContractActivatedV2: ContractActivatedV2(
        **TERMS, account_id="ACC-1", currency="EUR", executed_version=2, signed_document_sha256="0" * 64,
        lines=[ACTIVATED_LINE], activated_at=AT,
        entitlements=[ActivatedEntitlement(line_id=LINE_ID, sku="SUP-GOLD", name="onsite-repair", support_level="gold",
                                           sla="4h response", features=["remote-diagnostics"], usage_limit=10,
                                           usage_unit="incidents", start_date=dt.date(2026, 1, 1),
                                           end_date=dt.date(2026, 12, 31))],
        renewal=RenewalRules(auto_renewal=True, renewal_term_months=12, notice_days=90)),
    CatalogueEntryPublished: CatalogueEntryPublished(
        sku="SUP-GOLD", version=1, product="Gold support", by="ops-sam", at=AT,
        entitlements=[EntitlementTemplate(name="onsite-repair", support_level="gold", sla="4h response", usage_limit=1,
                                          usage_unit="incidents")]),
    CatalogueEntryRetired: CatalogueEntryRetired(sku="SUP-GOLD", version=2, by="ops-sam", at=AT),
    OrderCreated: OrderCreated(order_id=ORDER_ID, contract_id=CONTRACT_ID, account="ACME Robotics", currency="EUR", at=AT,
                               lines=[OrderLine(order_line_id=uuid.UUID(int=77), contract_line_id=LINE_ID, sku="SUP-GOLD",
                                                product="Gold support", quantity=_D(10), unit_price=_D("120.00"),
                                                discount_percent=_D(5), net_amount=_D("1140.00"),
                                                start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))]),
    OrderLineFulfilled: OrderLineFulfilled(order_id=ORDER_ID, contract_id=CONTRACT_ID, order_line_id=uuid.UUID(int=77),
                                           service_contract_id=CONTRACT_ID, service_line_id=uuid.UUID(int=78),
                                           entitlement_ids=[uuid.UUID(int=79)], at=AT),
    OrderLineFallout: OrderLineFallout(order_id=ORDER_ID, contract_id=CONTRACT_ID, order_line_id=uuid.UUID(int=77),
                                       rule="fulfilment.sku_not_in_catalogue", message="no catalogue entry", attempt=1, at=AT),
    OrderFulfilled: OrderFulfilled(order_id=ORDER_ID, contract_id=CONTRACT_ID, service_contract_id=CONTRACT_ID, at=AT),
    ReconciliationMismatch: ReconciliationMismatch(
        contract_id=CONTRACT_ID, detected_at=AT,
        difference=Difference(kind="line", item=str(LINE_ID), field="quantity", signed="10", active="8")),
    ContractReconciled: ContractReconciled(contract_id=CONTRACT_ID, reconciled_at=AT),
}

# -- phase 7: renewal terms, periods, reminders, obligations, contract links ----------------------
from shared.events.contract_links import ContractLinked  # noqa: E402
from shared.events.contract_periods import ContractPeriodEnded, ContractReminderDue  # noqa: E402
from shared.events.obligation_dates import ObligationDue, ObligationOverdue  # noqa: E402
from shared.events.obligations import (  # noqa: E402
    EvidenceDocument, ObligationCanceled, ObligationOccurrenceCompleted, ObligationRecorded, Recurrence,
)
from shared.events.renewal_terms import (  # noqa: E402
    ContractPeriod, ContractRenewed, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet,
    TerminationNoticeGiven,
)

OBLIGATION_ID = uuid.UUID("5a6b7c8d-9eaf-4b0c-8d1e-2f3a4b5c6d7e")
PERIOD_2 = ContractPeriod(number=2, start_date=dt.date(2028, 1, 1), end_date=dt.date(2028, 12, 31),
                          notice_deadline=dt.date(2028, 10, 2), cancel_by=dt.date(2028, 9, 2))

SAMPLES |= {
    RenewalTermsSet: RenewalTermsSet(
        contract_id=CONTRACT_ID, start_date=dt.date(2027, 1, 1), time_zone="Europe/Berlin", set_by="cm-1", at=AT,
        terms=RenewalTerms(initial_term="P12M", renewal_term="P12M", renewal="tacit", notice_period="P90D",
                           lead_time="P30D", max_renewals=3, owners=["cm-1", "role:contract_manager"]),
        period=ContractPeriod(number=1, start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 12, 31),
                              notice_deadline=dt.date(2027, 10, 2), cancel_by=dt.date(2027, 9, 2))),
    ContractRenewed: ContractRenewed(contract_id=CONTRACT_ID, previous_end_date=dt.date(2027, 12, 31), period=PERIOD_2,
                                     renewals=1, at=AT),
    TerminationNoticeGiven: TerminationNoticeGiven(contract_id=CONTRACT_ID, period_number=2, given_on=dt.date(2028, 9, 1),
                                                   end_date=dt.date(2028, 12, 31), reason="consolidating vendors",
                                                   given_by="cm-1", at=AT),
    RenewalReminderAcknowledged: RenewalReminderAcknowledged(contract_id=CONTRACT_ID, period_number=2, anchor="cancel_by",
                                                             note="decision at the Q3 review", acknowledged_by="cm-1", at=AT),
    ContractPeriodEnded: ContractPeriodEnded(contract_id=CONTRACT_ID, period_number=1, end_date=dt.date(2027, 12, 31),
                                             reached_at=AT),
    ContractReminderDue: ContractReminderDue(contract_id=CONTRACT_ID, period_number=2, anchor="cancel_by",
                                             anchor_date=dt.date(2028, 9, 2), days_before=30,
                                             recipients=["cm-1", "role:contract_manager"], reached_at=AT),
    ObligationRecorded: ObligationRecorded(
        obligation_id=OBLIGATION_ID, contract_id=CONTRACT_ID, kind="report", description="quarterly SLA report",
        owners=["cm-1"], recurrence=Recurrence(rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1", start=dt.date(2027, 1, 1)),
        time_zone="Europe/Berlin", source_clause="sla", recorded_by="cm-1", at=AT),
    ObligationCanceled: ObligationCanceled(obligation_id=OBLIGATION_ID, contract_id=CONTRACT_ID, reason="superseded",
                                           canceled_by="cm-1", at=AT),
    ObligationOccurrenceCompleted: ObligationOccurrenceCompleted(
        obligation_id=OBLIGATION_ID, contract_id=CONTRACT_ID, due_on=dt.date(2027, 3, 31), note="sent to the customer",
        evidence=EvidenceDocument(sha256="a" * 64, filename="sla-q1.pdf", media_type="application/pdf", size=1234),
        completed_by="cm-1", at=AT),
    ObligationDue: ObligationDue(obligation_id=OBLIGATION_ID, contract_id=CONTRACT_ID, due_on=dt.date(2027, 3, 31),
                                 kind="report", description="quarterly SLA report", owners=["cm-1"], reached_at=AT),
    ObligationOverdue: ObligationOverdue(obligation_id=OBLIGATION_ID, contract_id=CONTRACT_ID, due_on=dt.date(2027, 3, 31),
                                         number=2, recipients=["cm-1", "role:contract_manager"], escalated=True,
                                         reached_at=AT),
    ContractLinked: ContractLinked(contract_id=CONTRACT_ID, relation="successor", parent_id=OBLIGATION_ID,
                                   effective_date=dt.date(2028, 1, 1), linked_by="cm-1", at=AT),
}



events = pytest.mark.parametrize("cls", ALL_EVENTS, ids=export.schema_id)


def sample(cls: type[Event]) -> Event:
    assert cls in SAMPLES, f"add a sample {cls.__name__} to SAMPLES in {__name__}"
    return SAMPLES[cls]


def published_schema(cls: type[Event]) -> dict:
    return json.loads(GENERATED[export.SCHEMA_DIR / f"{export.schema_id(cls)}.json"])


def test_committed_contracts_are_what_the_models_generate():
    assert export.differences() == [], f"event contracts out of date: run `{export.COMMAND}` and commit the result"


def test_check_mode_fails_and_names_the_file_that_differs(monkeypatch, capsys):
    tampered = {**GENERATED, export.ASYNCAPI: GENERATED[export.ASYNCAPI] + "# edited by hand\n"}
    monkeypatch.setattr(export, "generate", lambda: tampered)
    assert export.main(["--check"]) == 1
    assert "shared/events/asyncapi.yaml" in capsys.readouterr().err


def test_event_types_and_versions_are_unique():
    ids = [(cls.event_type, cls.schema_version) for cls in ALL_EVENTS]
    assert len(ids) == len(set(ids))


@events
def test_event_is_routable_and_documented(cls):
    assert cls.topic in topics.ALL
    assert cls.key_field in cls.model_fields
    assert cls.source.startswith("/services/")
    assert cls.__doc__, "the docstring is the event's published description"
    schema = published_schema(cls)
    assert schema["$id"] == f"urn:clm-platform:events:{cls.event_type}:v{cls.schema_version}"
    assert schema["x-cloudevents-type"] == cls.cloudevent_type() == f"io.clm-platform.{cls.event_type}.v{cls.schema_version}"
    assert (schema["x-topic"], schema["x-key-field"], schema["x-source"]) == (cls.topic, cls.key_field, cls.source)


@events
def test_event_round_trips_through_the_kafka_envelope(cls):
    event = sample(cls)
    envelope = Envelope(event, stream_version=3, time=dt.datetime(2026, 1, 1, 8, 30, tzinfo=dt.UTC),
                        correlation_id="req-42", causation_id=str(uuid.uuid4()))

    topic, headers, value, key = to_kafka(envelope)

    names = {name for name, _ in headers}
    assert set(HEADERS["required"]) <= names and "ce_causationid" in names
    assert names <= set(HEADERS["properties"]), "every header on the wire is documented"
    wire = {name: raw.decode() for name, raw in headers}
    assert (topic, key) == (cls.topic, event.aggregate_id)
    assert wire["ce_partitionkey"] == wire["ce_subject"] == key
    assert (wire["ce_type"], wire["ce_source"]) == (cls.cloudevent_type(), cls.source)
    assert (wire["ce_schemaversion"], wire["ce_streamversion"]) == (str(cls.schema_version), "3")
    jsonschema.validate(wire, HEADERS)
    jsonschema.Draft202012Validator(published_schema(cls)).validate(json.loads(value))

    back = from_kafka(headers, key.encode(), value)
    assert back == envelope


def test_asyncapi_document_covers_every_topic_and_event():
    assert ASYNCAPI["asyncapi"] == "3.0.0"
    assert set(ASYNCAPI["channels"]) == set(topics.ALL)
    assert all(channel["address"] == topic for topic, channel in ASYNCAPI["channels"].items())
    for cls in ALL_EVENTS:
        name = export.schema_id(cls)
        assert name in ASYNCAPI["channels"][cls.topic]["messages"]
        assert ASYNCAPI["components"]["messages"][name]["payload"] == {"$ref": f"#/components/schemas/{name}"}
        sends = [op for op in ASYNCAPI["operations"].values()
                 if op["action"] == "send" and op["channel"]["$ref"] == f"#/channels/{cls.topic}"]
        assert {"$ref": f"#/channels/{cls.topic}/messages/{name}"} in sends[0]["messages"]


@events
def test_consumer_ignores_fields_added_later(cls):
    payload = {**sample(cls).model_dump(mode="json"), "added_in_a_later_release": {"any": "thing"}}
    assert cls.model_validate(payload) == sample(cls)
    jsonschema.Draft202012Validator(published_schema(cls)).validate(payload)

    _, headers, _, key = to_kafka(Envelope(sample(cls), stream_version=1))
    assert from_kafka(headers, key.encode(), json.dumps(payload).encode()).event == sample(cls)


def test_an_event_registers_itself_when_it_is_defined_and_a_second_class_of_the_same_version_is_refused():
    from shared.events import event_class
    from shared.events.base import registered_events

    class _ProbeEvent(ContractLineActivated):
        event_type = "ProbeRegistered"
        schema_version = 7

    assert event_class("ProbeRegistered", 7) is _ProbeEvent and _ProbeEvent in registered_events()
    with pytest.raises(TypeError, match="already"):
        class _Again(ContractLineActivated):
            event_type = "ProbeRegistered"
            schema_version = 7


@events
def test_an_event_from_a_source_that_does_not_own_it_or_on_another_topic_is_refused(cls):
    from shared.events.envelope import ForeignSource

    topic, headers, value, key = to_kafka(Envelope(sample(cls), stream_version=1))
    assert from_kafka(headers, key.encode(), value, topic).event == sample(cls)
    forged = [(n, b"/services/somebody_else" if n == "ce_source" else v) for n, v in headers]
    with pytest.raises(ForeignSource, match="does not own"):
        from_kafka(forged, key.encode(), value, topic)
    owned_by_another = next(c.topic for c in ALL_EVENTS if c.source != cls.source)
    with pytest.raises(ForeignSource, match="does not own topic"):
        from_kafka(headers, key.encode(), value, owned_by_another)


def test_quantities_are_bounded_so_every_consumer_can_store_them():
    from pydantic import ValidationError

    from shared.events.base import MAX_QUANTITY
    from shared.events.install_base import SoldProductRecorded

    sample = SAMPLES[SoldProductRecorded]
    assert SoldProductRecorded(**{**sample.model_dump(), "quantity": MAX_QUANTITY}).quantity == MAX_QUANTITY
    with pytest.raises(ValidationError):
        SoldProductRecorded(**{**sample.model_dump(), "quantity": 67_049_076_825})
