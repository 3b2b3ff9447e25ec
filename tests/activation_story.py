"""Scenes of activation (phase 6) shared by unit and integration tests: a contract requested from
an approved quote, drafted and executed, its events recorded on the aggregate directly (an envelope
signed by one signer; the approval and signature tests build how it gets there), and catalogue entries for its SKUs."""

import datetime as dt
import uuid

from shared.events.catalogue import CatalogueEntryPublished, CatalogueEntryRetired, EntitlementTemplate
from shared.events.contracts import ContractDrafted, ContractRequestStateChanged, Party
from shared.events.documents import DocumentRef
from shared.events.negotiation import NegotiatedTerms, NegotiatedTermsRecorded
from shared.events.quotes import QuoteApproved
from shared.events.signature import ContractExecuted, SignatureRequested, Signer, SignerSigned
from services.clm.domain.contract import Contract
from tests.events_factory import approved_quote

START, END = dt.date(2027, 1, 1), dt.date(2029, 12, 31)
AT = dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.UTC)
SIGNED = DocumentRef(document_id=uuid.uuid4(), sha256="ab" * 32, size=2048, media_type="application/pdf",
                     filename="signed.pdf")
GOLD = [EntitlementTemplate(name="premium-support", support_level="gold", sla="4h response",
                            features=["hotline", "remote-diagnosis"], usage_limit=10, usage_unit="incidents")]
ONSITE = [EntitlementTemplate(name="onsite-repair", support_level="silver", sla="next business day")]


def executed_contract(quote: QuoteApproved | None = None, *, auto_renewal: bool | None = True,
                      start: dt.date = START, end: dt.date = END) -> Contract:
    """Requested from `quote` (approved_quote(): SUP-PREM x 2 with dates, ONSITE x 1.5 without),
    drafted, negotiated, signed and executed: in `contract_signed`, waiting for its start date."""
    quote = quote or approved_quote()
    contract = Contract.request_from_quote(quote)
    cid = contract.contract_uuid
    contract.record(ContractDrafted(
        contract_id=cid, number=contract.requested.number, title=contract.request_terms.title,
        contract_model="service_contract", parties=[Party(role="vendor", name="Us"), Party(role="customer", name=quote.account.name)],
        start_date=start, end_date=end, time_zone="Europe/Berlin"))
    if auto_renewal is not None:
        contract.record(NegotiatedTermsRecorded(contract_id=cid, terms=NegotiatedTerms(auto_renewal=auto_renewal),
                                                by="sales-ann", at=AT))
    states = ["new", "work_in_progress", "awaiting_approval", "awaiting_signature", "contract_signed"]
    for before, after in zip(states, states[1:]):
        contract.record(ContractRequestStateChanged(contract_id=cid, from_state=before, to_state=after, by="cm-max", at=AT))
    envelope_id, signer_id = uuid.uuid4(), uuid.uuid4()
    contract.record(SignatureRequested(
        contract_id=cid, envelope_id=envelope_id, version_number=1, document=SIGNED, provider="builtin",
        signers=[Signer(signer_id=signer_id, name="Ann Buyer", email="ann@acme.example", role="customer", routing_order=1)],
        deadline=AT + dt.timedelta(days=14), by="cm-max", at=AT))
    contract.record(SignerSigned(contract_id=cid, envelope_id=envelope_id, signer_id=signer_id, at=AT, typed_name="Ann Buyer"))
    contract.record(ContractExecuted(
        contract_id=cid, envelope_id=envelope_id, version_number=1, signed_document=SIGNED, audit_certificate=SIGNED,
        start_date=start, end_date=end, time_zone="Europe/Berlin", executed_at=AT))
    return contract


def quote_with_skus(premium: str, onsite: str) -> QuoteApproved:
    """approved_quote() with SKUs of its own: catalogue entries are global, so a test that publishes
    some names its own (another test's catalogue events stay on the topic)."""
    quote = approved_quote()
    first, second = quote.lines
    return quote.model_copy(update={"lines": [first.model_copy(update={"sku": premium}),
                                              second.model_copy(update={"sku": onsite})]})


def published(sku: str, entitlements=GOLD, version: int = 1, product: str | None = None) -> CatalogueEntryPublished:
    return CatalogueEntryPublished(sku=sku, version=version, product=product or f"Product {sku}",
                                   entitlements=entitlements, by="ops-olga", at=AT)


def retired(sku: str, version: int = 2) -> CatalogueEntryRetired:
    return CatalogueEntryRetired(sku=sku, version=version, by="ops-olga", at=AT)
