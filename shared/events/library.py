"""Events of the clause and template library (services/clm).

All travel on `clm.library.v1`, a clause's keyed by `clause_id`, a template's by `template_id`
(distinct ids: one stream per key). Each published version is carried whole, so a consumer, or a
draft that pins it, needs no other call; a published version never changes.
"""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.events import topics
from shared.events.base import Event

TemplateKind = Literal["nda", "msa", "sow", "order_form", "dpa"]
VariableType = Literal["string", "date", "integer", "decimal"]


class ClauseVariant(BaseModel):
    """An approved fallback text of a clause, chosen by name instead of the standard text."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["large_deal"])
    text: str = Field(min_length=1, max_length=20_000)


class _ClauseEvent(Event):
    topic = topics.CLM_LIBRARY
    source = "/services/clm"
    key_field = "clause_id"
    clause_id: UUID


class ClauseVersionPublished(_ClauseEvent):
    """A version of a clause was published (version 1 creates the clause); earlier versions stay as they were.

    `variables` are the `{{ name }}` placeholders its standard and fallback texts use.
    """

    event_type = "ClauseVersionPublished"
    version: int = Field(ge=1)
    key: str = Field(description="stable slug, unique in the library", examples=["limitation_of_liability"])
    title: str
    text: str = Field(description="the standard text")
    fallbacks: list[ClauseVariant] = Field(default_factory=list)
    variables: list[str] = Field(default_factory=list)


class VariantRule(BaseModel):
    when: str = Field(description="CEL condition on the deal fields", examples=['deal_size > 250000.0'])
    use: str = Field(description="the name of one of the pinned clause version's fallbacks")


class ClauseSlot(BaseModel):
    clause_id: UUID
    clause_version: int = Field(ge=1, description="the clause version this template version pins")
    include_when: str | None = Field(None, description="CEL condition; the clause is left out when false")
    variants: list[VariantRule] = Field(default_factory=list, description="the first rule that holds picks the text; "
                                                                          "none: the standard text")


class TemplateSection(BaseModel):
    heading: str
    slots: list[ClauseSlot]


class TemplateVariable(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    type: VariableType = "string"
    required: bool = True


class _TemplateEvent(Event):
    topic = topics.CLM_LIBRARY
    source = "/services/clm"
    key_field = "template_id"
    template_id: UUID


class TemplateVersionPublished(_TemplateEvent):
    """A version of a template was published (version 1 creates the template), pinning the clause versions it uses."""

    event_type = "TemplateVersionPublished"
    version: int = Field(ge=1)
    kind: TemplateKind
    name: str
    sections: list[TemplateSection]
    variables: list[TemplateVariable] = Field(default_factory=list)
    pricing_appendix: bool = Field(False, description="the document ends with a table of the quote lines")
