"""A clause of the library: versions of a standard text with approved fallback variants. A new
version never changes an earlier one, which templates and drafts keep pinning."""

import re
from uuid import UUID

from shared.backbone.aggregate import Aggregate, applies
from shared.backbone.errors import invalid
from shared.events.library import ClauseVariant, ClauseVersionPublished
from services.clm.domain.library import rules
from services.clm.domain.library.placeholders import TextInvalid, names_in

STANDARD = "standard"  # the variant name of the standard text
KEY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"


class Clause(Aggregate):
    stream_type = "clause"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.versions: list[ClauseVersionPublished] = []

    @property
    def latest(self) -> ClauseVersionPublished:
        return self.versions[-1]

    @property
    def key(self) -> str:
        return self.versions[0].key

    def version_of(self, number: int) -> ClauseVersionPublished | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None

    @classmethod
    def create(cls, clause_id: UUID, *, key: str, title: str, text: str, fallbacks: list[ClauseVariant]) -> "Clause":
        if not re.fullmatch(KEY_PATTERN, key):
            raise invalid("clause.key_invalid", f"a clause key is a slug matching {KEY_PATTERN}, not {key!r}", field="key")
        clause = cls(str(clause_id))
        clause._publish(key, title, text, fallbacks)
        return clause

    def publish(self, *, title: str, text: str, fallbacks: list[ClauseVariant]) -> ClauseVersionPublished:
        return self._publish(self.key, title, text, fallbacks)

    def _publish(self, key: str, title: str, text: str, fallbacks: list[ClauseVariant]) -> ClauseVersionPublished:
        names = [STANDARD, *(f.name for f in fallbacks)]
        for i, name in enumerate(names[1:]):
            if name in names[:i + 1]:
                raise invalid(rules.CLAUSE_VARIANT_DUPLICATE, f"the variant name {name!r} is used twice "
                              f"(or is {STANDARD!r}, the standard text's)", field=f"fallbacks[{i}].name")
        variables: set[str] = set()
        for field, body in [("text", text), *((f"fallbacks[{i}].text", f.text) for i, f in enumerate(fallbacks))]:
            try:
                variables |= names_in(body)
            except TextInvalid as exc:
                raise invalid(rules.CLAUSE_TEXT_INVALID, f"clause {key}: {field} is not a valid text: {exc}", field=field)
        event = ClauseVersionPublished(
            clause_id=UUID(self.id), version=len(self.versions) + 1, key=key, title=title, text=text,
            fallbacks=fallbacks, variables=sorted(variables),
        )
        self.record(event)
        return event

    @applies
    def _on_version_published(self, event: ClauseVersionPublished) -> None:
        self.versions.append(event)
