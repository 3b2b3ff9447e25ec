"""Events of drafting and negotiation (services/clm, phases 2-3): the versions of a contract's
document, the deviations found in them, the negotiated terms.

They travel on `clm.contracts.v1` with the contract's other events, keyed by `contract_id`, so a
version, the deviations it raised and (in phase 4) the approvals it invalidates arrive in order.
Documents are referred to by `DocumentRef` (id, SHA-256, size), never carried.
"""

import datetime as dt
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event
from shared.events.documents import DocumentRef

VersionOrigin = Literal["generated", "internal_edit", "counterparty_upload"]
MatchKind = Literal["standard", "fallback", "non_standard"]


class _NegotiationEvent(Event):
    topic = topics.CLM_CONTRACTS
    source = "/services/clm"
    key_field = "contract_id"
    contract_id: UUID


class VersionClause(BaseModel):
    """One clause of a version as the document holds it, and how it matched the library."""

    number: str = Field(examples=["7"])
    heading: str
    text: str
    clause_id: UUID | None = Field(None, description="the library clause it is (generated) or matched closest")
    clause_version: int | None = None
    variant: str | None = Field(None, description='"standard" or the name of an approved fallback')
    match: MatchKind | None = Field(None, description="none on a generated version: it is the library's text")
    score: float | None = Field(None, ge=0, le=100, description="similarity to the closest library text")


class NegotiatedTerms(BaseModel):
    """Negotiation outcomes as data: what analytics, approvals and renewals read."""

    liability_cap: Decimal | None = Field(None, ge=0)
    liability_cap_currency: str | None = None
    auto_renewal: bool | None = None
    payment_days: int | None = Field(None, ge=0)
    governing_law: str | None = Field(None, examples=["Germany"])


class TemplateUsed(BaseModel):
    template_id: UUID
    template_version: int = Field(ge=1)
    kind: str = Field(examples=["msa"])


class ContractVersionAdded(_NegotiationEvent):
    """A version of the contract's document was added: generated from a template (version 1, or a
    regeneration), an internal edit, or a counterparty's upload parsed into clauses. Versions are
    numbered 1, 2, ... on the contract; each names its author and the stored document."""

    event_type = "ContractVersionAdded"
    version_number: int = Field(ge=1)
    origin: VersionOrigin
    author: str = Field(description="JWT sub of who generated or uploaded it")
    added_at: dt.datetime
    document: DocumentRef
    template: TemplateUsed | None = Field(None, description="set on generated versions")
    variables: dict[str, str] = Field(default_factory=dict, description="the values filled into the clauses")
    clauses: list[VersionClause]
    terms: NegotiatedTerms = Field(default_factory=NegotiatedTerms, description="as read from this version")


class DeviationFlagged(_NegotiationEvent):
    """A version departs from the standard: a clause matching neither the standard text nor an
    approved fallback, or a negotiated term changed against us (e.g. a lower liability cap). Open
    until a later version no longer has it; approvals (phase 4) read the open ones."""

    event_type = "DeviationFlagged"
    deviation_id: UUID
    version_number: int = Field(ge=1)
    kind: Literal["non_standard_clause", "term_changed"]
    clause_number: str | None = None
    heading: str | None = None
    closest_clause_id: UUID | None = None
    score: float | None = Field(None, ge=0, le=100)
    term: str | None = Field(None, description="the negotiated term that changed", examples=["liability_cap"])
    before: str | None = None
    after: str | None = None
    flagged_at: dt.datetime


class DeviationCleared(_NegotiationEvent):
    """A later version no longer has the deviation (the clause is back to standard or a fallback,
    the term back to what was standard)."""

    event_type = "DeviationCleared"
    deviation_id: UUID
    version_number: int = Field(ge=1, description="the version in which it no longer appears")
    cleared_at: dt.datetime


class NegotiatedTermsRecorded(_NegotiationEvent):
    """Someone recorded negotiated terms by hand (fields not given stay as they were)."""

    event_type = "NegotiatedTermsRecorded"
    terms: NegotiatedTerms
    by: str
    at: dt.datetime
