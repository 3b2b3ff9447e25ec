"""Real events for tests of the mechanics."""

import datetime as dt
import uuid
from decimal import Decimal

from shared.backbone.aggregate import Aggregate, applies
from shared.events.contracts import ContractDrafted, Party
from shared.events.quotes import Account, DealFields, QuoteApproved, QuoteLine


def drafted(contract_id: uuid.UUID | None = None, title: str = "Maintenance of line 4") -> ContractDrafted:
    return ContractDrafted(
        contract_id=contract_id or uuid.uuid4(), number="CNT-T", title=title, contract_model="service_contract",
        parties=[Party(role="customer", name="ACME Robotics")], start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31), time_zone="UTC",
    )


def approved_quote(**deal) -> QuoteApproved:
    """As order sync publishes it: two lines, every deal field; `deal` overrides some."""
    lines = [
        QuoteLine(line_id=uuid.uuid4(), sku="SUP-PREM", product="Premium support", quantity=Decimal(2),
                  unit_price=Decimal("1200.00"), discount_percent=Decimal("10"), start_date=dt.date(2027, 1, 1),
                  end_date=dt.date(2029, 12, 31), net_amount=Decimal("2160.00")),
        QuoteLine(line_id=uuid.uuid4(), sku="ONSITE", product="Onsite service", quantity=Decimal("1.5"),
                  unit_price=Decimal("800.00"), net_amount=Decimal("1200.00")),
    ]
    fields = dict(region="EU", industry="manufacturing", risk_tier="medium", data_residency="EU",
                  deal_size=Decimal("3360.00"), max_discount_percent=Decimal("10")) | deal
    return QuoteApproved(
        quote_id=uuid.uuid4(), number=f"Q-{uuid.uuid4().hex[:6]}", account=Account(account_id="ACC-77", name="ACME Robotics"),
        opportunity_id="OPP-4411", currency="EUR", term_months=36, billing_frequency="quarterly",
        valid_until=dt.date(2026, 12, 31), time_zone="Europe/Berlin", lines=lines, deal=DealFields(**fields),
        approved_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC), approved_by="sales-ann",
    )


class Note(Aggregate):
    """A tiny aggregate whose every event is a retitled draft: enough to exercise the store."""

    stream_type = "note"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.titles: list[str] = []

    def retitle(self, title: str) -> None:
        self.record(drafted(uuid.UUID(self.id), title))

    @applies
    def _on_contract_drafted(self, event: ContractDrafted) -> None:
        self.titles.append(event.title)


class Memo(Note):
    """Another aggregate type applying the same events as Note: replaying a note's stream as a Memo
    would work, so only the stream's type tells them apart."""

    stream_type = "memo"
