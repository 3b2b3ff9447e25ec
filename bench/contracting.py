"""How fast is a 100-clause contract generated as .docx and a counterparty's .docx of it checked for
deviations? `python -m bench.contracting`.

A library of 1,000 clause variants (250 clauses: a standard text with placeholders and three
approved fallbacks, as `ClauseVersionPublished`) and a template of 100 slots over it (conditions
and variant rules in CEL, as the starter library's). Per document, 50 documents, each with its own
deal and variables:

- **generation**: `selection.compose_document` (conditions, variants, placeholders) and
  `writer.render_docx`, what `POST /contracts/{id}/draft` does besides storing;
- **deviation check** of the counterparty's edit (rendered beforehand, untimed: mostly our text,
  some fallbacks, other values, reworded clauses, clauses of their own): `DeviationIndex.build` of
  the contract's pinned clauses rendered with its variables plus the library's 1,000 variants (as
  `application/negotiation.deviation_index` builds it for each upload), `reader.read_docx` and
  `deviations.check`, what `POST /contracts/{id}/versions` does besides storing.

Prints p50/p99/max in ms per step and per whole. CPU only, no I/O. `--profile` prints the top of a
cProfile of both steps over all documents.
"""

import argparse
import cProfile
import io
import pstats
import random
import statistics
import time
from uuid import UUID

from bench.slice import percentile
from shared.events.library import (ClauseSlot, ClauseVariant, ClauseVersionPublished, TemplateSection,
                                   TemplateVariable, TemplateVersionPublished, VariantRule)
from services.clm.adapters.word.reader import read_docx
from services.clm.adapters.word.writer import render_docx
from services.clm.domain.documents.deviations import DeviationIndex, LibraryText, check
from services.clm.domain.documents.model import ContractDocument, DocumentClause
from services.clm.domain.library.clause import STANDARD
from services.clm.domain.library.placeholders import render
from services.clm.domain.library.selection import compose_document

WORDS = ("party parties agreement supplier customer services shall may not any all such terms notice written "
         "period days months fees invoice payment liability damages loss indirect consequential confidential "
         "information obligations rights breach remedy termination effective date law court jurisdiction "
         "warranty performance standard reasonable efforts data personal processing security audit records "
         "subcontractor assignment consent delay force majeure event insurance indemnify claims third").split()
VARIABLES = ("customer_name", "provider_name", "liability_cap", "payment_days", "governing_law")
TEMPLATE_ID = UUID(int=10_000)
CONDITIONS = ('region == "EU" || data_residency == "EU"', 'risk_tier != "unknown"', "deal_size >= 0.0",
              "term_months >= 1")
VARIANT_RULES = ('industry == "public_sector"', "deal_size > 250000.0", 'risk_tier == "high"')


def _sentence(rng: random.Random, low: int, high: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(low, high))]


def library(rng: random.Random, clauses: int = 250, fallbacks: int = 3) -> list[ClauseVersionPublished]:
    """`clauses` clauses, each a standard text with one or two placeholders and `fallbacks` fallbacks
    (a few words changed): clauses x (1 + fallbacks) variants."""
    published = []
    for c in range(clauses):
        base = _sentence(rng, 40, 90)
        names = rng.sample(VARIABLES, rng.randint(1, 2))
        for name in names:
            base.insert(rng.randint(3, len(base) - 3), f"{{{{ {name} }}}}")
        variants = []
        for f in range(fallbacks):
            words = list(base)
            for _ in range(rng.randint(6, 15)):
                i = rng.randrange(len(words))
                if not words[i].startswith("{{"):
                    words[i] = rng.choice(WORDS)
            variants.append(ClauseVariant(name=f"fallback_{f + 1}", text=" ".join(words) + "."))
        published.append(ClauseVersionPublished(
            clause_id=UUID(int=c + 1), version=1, key=f"clause_{c + 1}", title=" ".join(rng.choices(WORDS, k=2)).title(),
            text=" ".join(base) + ".", fallbacks=variants, variables=sorted(names)))
    return published


def template(rng: random.Random, clauses: list[ClauseVersionPublished], slots: int = 100) -> TemplateVersionPublished:
    """`slots` slots over distinct clauses, each included by a condition that holds for every bench
    deal, a third with variant rules (which pick a fallback for some deals)."""
    picked = rng.sample(clauses, slots)
    sections = []
    for s in range(0, slots, 10):
        sections.append(TemplateSection(heading=f"Section {s // 10 + 1}", slots=[
            ClauseSlot(clause_id=c.clause_id, clause_version=c.version, include_when=rng.choice(CONDITIONS),
                       variants=[VariantRule(when=rng.choice(VARIANT_RULES), use=rng.choice(c.fallbacks).name)]
                       if rng.random() < 0.33 else [])
            for c in picked[s:s + 10]]))
    return TemplateVersionPublished(
        template_id=TEMPLATE_ID, version=1, kind="msa", name="Bench MSA", sections=sections,
        variables=[TemplateVariable(name=n, type="integer" if n == "payment_days" else "string") for n in VARIABLES])


def deal_and_variables(rng: random.Random, i: int) -> tuple[dict, dict]:
    deal = {"region": rng.choice(["EU", "US", "APAC"]), "data_residency": "EU", "industry": rng.choice(
        ["manufacturing", "public_sector", "retail"]), "risk_tier": rng.choice(["low", "medium", "high"]),
        "deal_size": float(rng.choice([50_000, 200_000, 400_000, 1_500_000])), "max_discount_percent": 10.0,
        "currency": "EUR", "term_months": rng.choice([12, 24, 36])}
    variables = {"customer_name": f"Customer {i} GmbH", "provider_name": "Initech",
                 "liability_cap": f"EUR {rng.randint(1, 9)},000,000", "payment_days": rng.choice([30, 45, 60]),
                 "governing_law": rng.choice(["Germany", "France", "Ireland"])}
    return deal, variables


def counterparty(rng: random.Random, ours: ContractDocument) -> ContractDocument:
    """Their edit: ~10 % other values, ~8 % reworded, ~4 % replaced by a clause of their own."""
    clauses = []
    for clause in ours.clauses:
        text, roll = clause.text, rng.random()
        if roll < 0.10:
            text = text.replace("EUR ", "EUR 0.", 1) if "EUR " in text else text.replace("Initech", "Initech Ltd")
        elif roll < 0.18:
            words = text.split()
            for _ in range(rng.randint(3, 12)):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            text = " ".join(words)
        elif roll < 0.22:
            text = " ".join(_sentence(rng, 30, 80)) + "."
        clauses.append(DocumentClause(clause.number, clause.heading, text))
    return ContractDocument(ours.title, ours.parties, tuple(clauses))


def library_texts(clauses: list[ClauseVersionPublished]) -> list[LibraryText]:
    """The library as `negotiation._library_index` reads it: every variant, placeholders as values."""
    texts = []
    for c in clauses:
        texts.append(LibraryText(c.clause_id, c.version, STANDARD, c.title, c.text))
        texts += [LibraryText(c.clause_id, c.version, f.name, c.title, f.text) for f in c.fallbacks]
    return texts


def contract_index(pinned: dict, variables: dict, library: DeviationIndex) -> DeviationIndex:
    """As `negotiation.deviation_index`: the pinned clauses rendered with the contract's variables, on
    the library's index (prepared once per library state, as clm caches it)."""
    printed = {k: str(v) for k, v in variables.items()}
    rendered = [LibraryText(c.clause_id, c.version, variant, c.title, render(text, printed), template=text)
                for c in pinned.values()
                for variant, text in [(STANDARD, c.text), *((f.name, f.text) for f in c.fallbacks)]]
    return library.with_texts(rendered)


def run(args) -> dict[str, list[float]]:
    rng = random.Random(args.seed)
    clauses = library(rng)
    tpl = template(rng, clauses, args.clauses)
    used = {slot.clause_id for section in tpl.sections for slot in section.slots}
    pinned = {(c.clause_id, c.version): c for c in clauses if c.clause_id in used}  # what the template pins
    t_library = time.perf_counter()
    texts = DeviationIndex.build(library_texts(clauses))  # once per library state, as clm caches it
    library_ms = (time.perf_counter() - t_library) * 1000
    parties = (("customer", "Acme GmbH"), ("vendor", "Initech"))
    cases = [deal_and_variables(rng, i) for i in range(args.documents)]

    times: dict[str, list[float]] = {k: [] for k in ("select", "render", "generation", "index", "parse", "check",
                                                     "deviation check")}
    kinds: dict[str, int] = {}
    profile = None
    for n, (deal, variables) in enumerate(cases):
        profile = (cProfile.Profile() if n == 1 else profile) if args.profile else None  # warm: from the 2nd
        if profile:
            profile.enable()
        t0 = time.perf_counter()
        ours = compose_document(tpl, pinned, title="Master Services Agreement", parties=parties, deal=deal,
                                variables=variables, pricing=None)
        t1 = time.perf_counter()
        content = render_docx(ours)
        t2 = time.perf_counter()
        if profile:
            profile.disable()
        assert len(ours.clauses) == args.clauses
        upload = render_docx(counterparty(rng, ours))  # untimed: the counterparty's work

        if profile:
            profile.enable()
        t3 = time.perf_counter()
        index = contract_index(pinned, variables, texts)
        t4 = time.perf_counter()
        theirs = read_docx(upload)
        t5 = time.perf_counter()
        report = check(theirs, index)
        t6 = time.perf_counter()
        if profile:
            profile.disable()
        assert len(theirs.clauses) == args.clauses and read_docx(content).clauses[0].text == ours.clauses[0].text
        for clause in report.clauses:
            kinds[clause.match.kind] = kinds.get(clause.match.kind, 0) + 1
        for name, value in (("select", t1 - t0), ("render", t2 - t1), ("generation", t2 - t0), ("index", t4 - t3),
                            ("parse", t5 - t4), ("check", t6 - t5), ("deviation check", t6 - t3)):
            times[name].append(value * 1000)
        times.setdefault("_kib", []).append(len(content) / 1024)
    print(f"library: {len(texts)} clause variants ({len(clauses)} clauses), index prepared once in {library_ms:.0f} ms; template: {args.clauses} slots; "
          f"index per document: {len(index)} entries (the contract's pinned clauses rendered + the library)")
    print(f"documents: {args.documents} x {args.clauses} clauses, {statistics.mean(times.pop('_kib')):.0f} KiB each")
    print(f"clauses of the counterparty's versions: {kinds}")
    if profile:
        print("cProfile of both steps, every document but the first:")
        pstats.Stats(profile).sort_stats(args.profile).print_stats(30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--clauses", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("cumulative", "tottime"), help="print a cProfile of both steps, sorted so")
    args = parser.parse_args()
    times = run(args)
    targets = {"generation": 300.0, "deviation check": 200.0}
    print(f"{'per document':<20}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}  target")
    for name, values in times.items():
        target = targets.get(name)
        p99 = percentile(values, 99)
        verdict = "" if target is None else f"<= {target:.0f} ms p99: {'ok' if p99 <= target else 'MISS'}"
        prefix = "  " if target is None else ""
        print(f"{prefix + name:<20}{percentile(values, 50):>8.1f}{p99:>8.1f}{max(values):>8.1f}  {verdict}")
    if len(times["generation"]) > 1:
        print("the first document alone (cold caches: CEL conditions and the library's value patterns compiled): "
              + ", ".join(f"{name} {values[0]:.0f} ms" for name, values in times.items() if not name.startswith(" ")))
        print("p99 of the other documents (warm):    "
              + ", ".join(f"{name} {percentile(values[1:], 99):.0f} ms" for name, values in times.items()))


if __name__ == "__main__":
    main()
