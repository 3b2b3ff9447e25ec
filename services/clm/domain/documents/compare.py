"""Two versions of a contract compared clause by clause: which clauses were added, removed or
changed, and for each changed clause a word-level diff.

Clauses are aligned in three passes, each only over what the earlier ones left unmatched: the
same library clause (clause_id on both sides), the same number and heading, then the most similar
pair by heading and text (rapidfuzz) above `FUZZY_MIN_SCORE`, best pairs first, so no clause is
matched twice. Words are diffed with difflib's SequenceMatcher over word tokens: it is the
standard library, its opcodes are word-level when fed words (diff-match-patch diffs characters
and would need its lines-to-chars trick to work on words), and clauses are short enough that
its quadratic worst case does not matter. Whitespace is not a word: a clause that differs only
in spacing or line breaks inside a paragraph is unchanged."""

from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from typing import Literal

from rapidfuzz import fuzz

from services.clm.domain.documents.deviations import normalise
from services.clm.domain.documents.model import ContractDocument, DocumentClause

# Below this similarity (0-100, heading and text) an unmatched old and new clause are a removal
# and an addition, not one changed clause.
FUZZY_MIN_SCORE = 60.0
PARAGRAPH = "\n"  # a paragraph break is a token of its own, so the redline can keep paragraphs

ChangeKind = Literal["added", "removed", "changed", "unchanged"]
OpKind = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class WordOp:
    op: OpKind
    words: tuple[str, ...]  # words and PARAGRAPH breaks; the text is the words joined by spaces

    @property
    def text(self) -> str:
        return " ".join(self.words).replace(f" {PARAGRAPH} ", PARAGRAPH).replace(f"{PARAGRAPH} ", PARAGRAPH) \
            .replace(f" {PARAGRAPH}", PARAGRAPH)


@dataclass(frozen=True)
class ClauseChange:
    kind: ChangeKind
    old: DocumentClause | None
    new: DocumentClause | None
    matched_by: Literal["clause_id", "number_heading", "similarity"] | None = None
    similarity: float | None = None  # for a fuzzy match
    heading_diff: tuple[WordOp, ...] = ()
    text_diff: tuple[WordOp, ...] = ()


@dataclass(frozen=True)
class Comparison:
    changes: tuple[ClauseChange, ...]  # in the new version's order, a removed clause after its old predecessor
    pricing_changed: bool

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def as_json(self) -> dict:
        return _jsonable(asdict(self))


def words(text: str) -> list[str]:
    """Word tokens with a PARAGRAPH token between paragraphs; blank paragraphs dropped."""
    tokens: list[str] = []
    for paragraph in text.split("\n"):
        split = paragraph.split()
        if split:
            if tokens:
                tokens.append(PARAGRAPH)
            tokens += split
    return tokens


def word_diff(old: str, new: str) -> tuple[WordOp, ...]:
    a, b = words(old), words(new)
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(WordOp("equal", tuple(a[i1:i2])))
        if tag in ("delete", "replace"):
            ops.append(WordOp("delete", tuple(a[i1:i2])))
        if tag in ("insert", "replace"):
            ops.append(WordOp("insert", tuple(b[j1:j2])))
    return tuple(ops)


def compare(old: ContractDocument, new: ContractDocument) -> Comparison:
    pairs = _align(old.clauses, new.clauses)
    by_new = {j: (i, how, score) for i, j, how, score in pairs}
    matched_old = {i for i, _, _, _ in pairs}
    removed_after: dict[int, list[int]] = {}  # new index (-1: the start) -> old clauses removed after it
    new_of_old = {i: j for i, j, _, _ in pairs}
    for i in range(len(old.clauses)):
        if i not in matched_old:
            before = [new_of_old[k] for k in range(i) if k in new_of_old]
            removed_after.setdefault(max(before) if before else -1, []).append(i)

    changes = [ClauseChange("removed", old.clauses[i], None) for i in removed_after.get(-1, [])]
    for j, clause in enumerate(new.clauses):
        if j in by_new:
            i, how, score = by_new[j]
            changes.append(_changed(old.clauses[i], clause, how, score))
        else:
            changes.append(ClauseChange("added", None, clause))
        changes += [ClauseChange("removed", old.clauses[i], None) for i in removed_after.get(j, [])]
    return Comparison(tuple(changes), pricing_changed=old.pricing != new.pricing)


def _changed(old: DocumentClause, new: DocumentClause, how, score) -> ClauseChange:
    same_heading = words(old.heading) == words(new.heading)
    same_text = words(old.text) == words(new.text)
    if same_heading and same_text:
        return ClauseChange("unchanged", old, new, how, score)
    return ClauseChange("changed", old, new, how, score,
                        heading_diff=() if same_heading else word_diff(old.heading, new.heading),
                        text_diff=() if same_text else word_diff(old.text, new.text))


def _align(old: tuple[DocumentClause, ...], new: tuple[DocumentClause, ...]) -> list[tuple[int, int, str, float | None]]:
    pairs: list[tuple[int, int, str, float | None]] = []
    free_old, free_new = set(range(len(old))), set(range(len(new)))

    def pass_by(key, how: str) -> None:
        index: dict = {}
        for i in sorted(free_old):
            k = key(old[i])
            if k is not None:
                index.setdefault(k, []).append(i)
        for j in sorted(free_new):
            k = key(new[j])
            if k is not None and index.get(k):
                i = index[k].pop(0)
                pairs.append((i, j, how, None))
                free_old.discard(i)
                free_new.discard(j)

    pass_by(lambda c: c.clause_id, "clause_id")
    pass_by(lambda c: (c.number.strip().rstrip("."), normalise(c.heading)), "number_heading")

    scored = sorted(
        ((_similarity(old[i], new[j]), i, j) for i in free_old for j in free_new),
        key=lambda s: (-s[0], s[1], s[2]))
    for score, i, j in scored:
        if score < FUZZY_MIN_SCORE:
            break
        if i in free_old and j in free_new:
            pairs.append((i, j, "similarity", round(score, 1)))
            free_old.discard(i)
            free_new.discard(j)
    return pairs


def _similarity(a: DocumentClause, b: DocumentClause) -> float:
    """Text counts most; the heading breaks ties between clauses of like wording."""
    text = fuzz.ratio(normalise(a.text), normalise(b.text))
    heading = fuzz.ratio(normalise(a.heading), normalise(b.heading))
    return 0.8 * text + 0.2 * heading if a.text.strip() or b.text.strip() else heading


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # UUID, Decimal
