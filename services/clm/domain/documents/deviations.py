"""Deviation from standard language: each clause of a version matched against the clause library
(standard texts and approved fallbacks) as standard, an approved fallback, or non-standard with
the closest library text and its score.

Scores are rapidfuzz's `fuzz.ratio` (normalised Indel similarity, 0-100) of normalised texts.
Library texts hold `{{ name }}` placeholders; the caller passes them rendered with the contract's
variables (`text`) and, where it has it, the template wording (`template`). A clause whose
wording is the template's with other values filled in is still standard (or the fallback): its
score is taken with the values masked, and the values that differ are reported with the match."""

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterable, Literal
from uuid import UUID

from rapidfuzz import fuzz, process

from services.clm.domain.documents.model import ContractDocument, DocumentClause
from services.clm.domain.documents.values import (
    LEADING_NUMBER, PLACEHOLDER, NegotiatedTerms, TermChange, changed_terms, extract_values, plain, read_terms,
    template_pattern,
)

# At or above: the clause says what the library text says (typos, a dropped comma, "shall" for
# "will" in a long clause). Below: non-standard, reported with its closest library text.
STANDARD_MIN_SCORE = 97.0
# Fuzzy candidates checked against their template wording when the clause is not the rendered text
# word for word (its values may differ from the contract's).
TEMPLATE_CANDIDATES = 3
STANDARD = "standard"

MatchKind = Literal["standard", "fallback", "non_standard"]

_NOT_WORD = re.compile(r"[^\w]+")
_VALUE = "\x00"  # stands for a masked placeholder value in a normalised text


def normalise(text: str) -> str:
    """Case, whitespace, quotes, punctuation and leading numbering ("1.", "(a)", "§ 3") dropped."""
    text = LEADING_NUMBER.sub("", plain(text))
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


@lru_cache(maxsize=4096)
def _masked(template_text: str) -> str:
    """The template normalised with every placeholder as one marker word."""
    return " ".join(f" {_VALUE} ".join(normalise(p) for p in PLACEHOLDER.split(template_text)[::2]).split())


@dataclass(frozen=True)
class LibraryText:
    clause_id: UUID
    clause_version: int
    variant: str  # "standard" or the name of an approved fallback
    heading: str
    text: str  # rendered with the contract's variables (placeholders left in are matched as values)
    template: str | None = None  # the wording with `{{ name }}` placeholders, when it has any


@dataclass(frozen=True)
class ValueChange:
    name: str
    expected: str | None  # as the rendered library text has it (None: the caller rendered none)
    found: str


@dataclass(frozen=True)
class ClauseMatch:
    kind: MatchKind
    closest: LibraryText | None
    score: float
    values: dict[str, str] = field(default_factory=dict)  # placeholder values as the clause has them
    changed_values: tuple[ValueChange, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.kind == "non_standard" or bool(self.changed_values)


@dataclass(frozen=True)
class _Entry:
    library: LibraryText
    normal: str  # the rendered text normalised
    template: str | None  # the template wording, when it has placeholders
    heading: str  # the library heading normalised

    @property
    def masked(self) -> str | None:
        """The template normalised, each placeholder one marker (cached per template wording)."""
        return _masked(self.template) if self.template else None

    @cached_property
    def expected(self) -> dict[str, str]:
        """The values the rendered text carries: read only for the few entries a clause matches,
        not for each of an upload's 400 rendered texts."""
        template, text = self.template, self.library.text
        return extract_values(template, text) if template and template != text else {}


class DeviationIndex:
    """The library prepared once: normalised texts, an exact-text lookup, the texts by clause id."""

    def __init__(self, entries: list[_Entry]):
        self._entries = entries
        self._normals = [e.normal for e in entries]
        self._exact: dict[str, _Entry] = {}
        self._by_clause: dict[UUID, list[_Entry]] = {}
        self._by_heading: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            self._exact.setdefault(entry.normal, entry)
            self._by_clause.setdefault(entry.library.clause_id, []).append(entry)
            self._by_heading.setdefault(entry.heading, []).append(i)

    @classmethod
    def build(cls, texts: Iterable[LibraryText]) -> "DeviationIndex":
        entries = []
        for text in texts:
            template = text.template or (text.text if PLACEHOLDER.search(text.text) else None)
            if template is not None and not PLACEHOLDER.search(template):
                template = None
            if template:
                template_pattern(template), _masked(template)  # prepared with the index, not at the first upload
            entries.append(_Entry(text, normalise(PLACEHOLDER.sub(" ", text.text)), template, normalise(text.heading)))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def with_texts(self, texts: Iterable[LibraryText]) -> "DeviationIndex":
        """`texts` prepared and put before this index's own entries (they win an exact tie): the
        library is prepared once, a contract's rendered clauses on top for each upload."""
        return DeviationIndex([*DeviationIndex.build(texts)._entries, *self._entries])

    def match(self, clause: DocumentClause) -> ClauseMatch:
        body = clause.text if clause.text.strip() else clause.heading
        normal = normalise(body)
        own = self._by_clause.get(clause.clause_id, []) if clause.clause_id else []
        exact = self._exact.get(normal)
        if exact is not None and (not own or exact in own):
            return _matched(exact, 100.0, {})
        if own:
            found = self._best(body, normal, [(e, fuzz.ratio(normal, e.normal)) for e in own])
        else:
            # The texts under the clause's own heading first: most clauses keep theirs, and a
            # standard or fallback match there needs no scan of the whole library.
            under = self._by_heading.get(normalise(clause.heading)) if clause.heading.strip() else None
            found = self._best(body, normal, self._closest(normal, under)) if under else None
            if found is None or found[1] < STANDARD_MIN_SCORE:
                wide = self._best(body, normal, self._closest(normal, None))
                if found is None or (wide is not None and wide[1] > found[1]):
                    found = wide
        if found is None:
            return ClauseMatch("non_standard", None, 0.0)
        return _matched(*found)

    def _closest(self, normal: str, among: list[int] | None) -> list[tuple[_Entry, float]]:
        """The TEMPLATE_CANDIDATES texts closest to `normal`, of `among` (indexes) or of all."""
        if among is None:
            found = process.extract(normal, self._normals, scorer=fuzz.ratio, limit=TEMPLATE_CANDIDATES)
            return [(self._entries[i], score) for _, score, i in found]
        found = process.extract(normal, [self._normals[i] for i in among], scorer=fuzz.ratio, limit=TEMPLATE_CANDIDATES)
        return [(self._entries[among[i]], score) for _, score, i in found]

    @staticmethod
    def _best(body: str, normal: str, candidates: list[tuple[_Entry, float]]) -> tuple[_Entry, float, dict] | None:
        """The best candidate, its score counted with placeholder values masked where it has them."""
        best = None
        for entry, score in candidates:
            values = {}
            if score < 100.0 and entry.template:
                values = extract_values(entry.template, body)
                if values:
                    score = max(score, fuzz.ratio(_mask_values(normal, values), entry.masked))
            if best is None or score > best[1]:
                best = (entry, score, values)
        return best


def _mask_values(normal: str, values: dict[str, str]) -> str:
    masked = f" {normal} "
    for value in sorted(values.values(), key=len, reverse=True):
        value = normalise(value)
        if value:
            masked = masked.replace(f" {value} ", f" {_VALUE} ")
    return " ".join(masked.split())


def _matched(entry: _Entry, score: float, values: dict[str, str]) -> ClauseMatch:
    score = round(float(score), 1)
    if score < STANDARD_MIN_SCORE:
        return ClauseMatch("non_standard", entry.library, score, values)
    changed = tuple(
        ValueChange(name, entry.expected.get(name), found) for name, found in values.items()
        if entry.expected and normalise(entry.expected.get(name, "")) != normalise(found))
    kind: MatchKind = "standard" if entry.library.variant == STANDARD else "fallback"
    return ClauseMatch(kind, entry.library, score, values, changed)


# --------------------------------------------------------------------------------------------
# a whole version


@dataclass(frozen=True)
class ClauseDeviation:
    number: str
    heading: str
    match: ClauseMatch


@dataclass(frozen=True)
class DeviationReport:
    clauses: tuple[ClauseDeviation, ...]
    terms: NegotiatedTerms
    term_changes: tuple[TermChange, ...]  # against the agreed (or standard) terms, when given

    @property
    def flagged(self) -> tuple[ClauseDeviation, ...]:
        return tuple(c for c in self.clauses if c.match.flagged)

    @property
    def deviating_terms(self) -> tuple[TermChange, ...]:
        return tuple(c for c in self.term_changes if c.deviation)


def check(document: ContractDocument, index: DeviationIndex,
          standard_terms: NegotiatedTerms | None = None) -> DeviationReport:
    """Every clause matched; the terms read from the version and compared with `standard_terms`
    (what the template's standard wording, or the last agreed version, says)."""
    clauses = tuple(ClauseDeviation(c.number, c.heading, index.match(c)) for c in document.clauses)
    terms = read_terms([c.text for c in document.clauses])
    changes = tuple(changed_terms(standard_terms, terms)) if standard_terms is not None else ()
    return DeviationReport(clauses, terms, changes)
