"""What a contract document holds, whatever file it came from or goes to: a title, the parties,
numbered clauses and an optional pricing appendix. The Word writer renders it, the Word reader
parses an upload back into it, comparison and deviation matching read it."""

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True)
class DocumentClause:
    number: str  # as printed: "1", "2", ...
    heading: str
    text: str  # its paragraphs, joined by "\n"
    # Where it came from in the library; None for a clause parsed from an upload and not yet matched.
    clause_id: UUID | None = None
    clause_version: int | None = None
    variant: str | None = None  # "standard" or the name of an approved fallback


@dataclass(frozen=True)
class PricingRow:
    sku: str
    product: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    net_amount: Decimal


@dataclass(frozen=True)
class PricingAppendix:
    currency: str
    rows: tuple[PricingRow, ...]
    total: Decimal


@dataclass(frozen=True)
class ContractDocument:
    title: str
    parties: tuple[tuple[str, str], ...]  # (role, name)
    clauses: tuple[DocumentClause, ...]
    pricing: PricingAppendix | None = None
    notes: tuple[str, ...] = field(default=())  # text outside clauses the reader found (kept, not compared)
