"""How fast is an upload parsed and checked for deviations? `python -m bench.deviations`.

Generates a library of 1,000 clause variants (250 clauses: a standard text with a placeholder and
three fallbacks) and 50 documents of 100 clauses each (mostly standard, some fallbacks, some with
other values, some reworded, some new), renders each as .docx with python-docx in the shape of
the Word writer (a tiny local writer: the real one, adapters/word/writer.py, lands separately),
then times per document `read_docx` (parse) and `deviations.check` (match every clause and read
the terms). Prints p50/p99 in ms; the index build is timed once. No I/O besides the CPU.
"""

import argparse
import io
import random
import statistics
import time
from uuid import UUID

from docx import Document

from bench.slice import percentile
from services.clm.adapters.word.reader import read_docx
from services.clm.domain.documents.deviations import DeviationIndex, LibraryText, check
from services.clm.domain.documents.model import ContractDocument, DocumentClause

WORDS = ("party parties agreement supplier customer services shall may not any all such terms notice written "
         "period days months fees invoice payment liability damages loss indirect consequential confidential "
         "information obligations rights breach remedy termination effective date law court jurisdiction "
         "warranty performance standard reasonable efforts data personal processing security audit records "
         "subcontractor assignment consent delay force majeure event insurance indemnify claims third").split()


def library(rng: random.Random, clauses: int = 250, fallbacks: int = 3) -> list[LibraryText]:
    texts = []
    for c in range(clauses):
        ident, heading = UUID(int=c + 1), " ".join(rng.choices(WORDS, k=2)).title()
        base = [rng.choice(WORDS) for _ in range(rng.randint(40, 90))]
        cut = rng.randint(5, len(base) - 5)
        template = " ".join(base[:cut]) + " {{ amount }} " + " ".join(base[cut:]) + "."
        texts.append(LibraryText(ident, 1, "standard", heading, template.replace("{{ amount }}", "EUR 1,000,000"),
                                 template))
        for f in range(fallbacks):
            words = list(base)
            for _ in range(rng.randint(6, 15)):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            texts.append(LibraryText(ident, 1, f"fallback_{f + 1}", heading, " ".join(words) + "."))
    return texts


def document(rng: random.Random, texts: list[LibraryText], n: int = 100) -> ContractDocument:
    clauses = []
    for i in range(1, n + 1):
        pick, roll = rng.choice(texts), rng.random()
        text = pick.text
        if roll < 0.10 and pick.template:
            text = pick.template.replace("{{ amount }}", f"EUR {rng.randint(1, 9)}00,000")  # another value
        elif roll < 0.18:
            words = text.split()
            for _ in range(rng.randint(3, 12)):
                words[rng.randrange(len(words))] = rng.choice(WORDS)  # reworded
            text = " ".join(words)
        elif roll < 0.22:
            text = " ".join(rng.choices(WORDS, k=rng.randint(30, 80))) + "."  # a clause of their own
        clauses.append(DocumentClause(str(i), pick.heading, text))
    return ContractDocument("Master Services Agreement", (("Customer", "Acme GmbH"), ("Supplier", "Beta Ltd")),
                            tuple(clauses))


def render(doc: ContractDocument) -> bytes:
    word = Document()
    word.add_heading(doc.title, level=0)
    word.add_paragraph("Between")
    for role, name in doc.parties:
        word.add_paragraph(f"{name} ({role})", style="List Bullet")
    for clause in doc.clauses:
        word.add_heading(f"{clause.number}. {clause.heading}", level=1)
        for paragraph in clause.text.split("\n"):
            word.add_paragraph(paragraph)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--clauses", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    texts = library(rng)
    started = time.perf_counter()
    index = DeviationIndex.build(texts)
    build_ms = (time.perf_counter() - started) * 1000
    uploads = [render(document(rng, texts, args.clauses)) for _ in range(args.documents)]

    parse_ms, check_ms, kinds = [], [], {}
    for upload in uploads:
        started = time.perf_counter()
        doc = read_docx(upload)
        parsed = time.perf_counter()
        report = check(doc, index)
        done = time.perf_counter()
        parse_ms.append((parsed - started) * 1000)
        check_ms.append((done - parsed) * 1000)
        for clause in report.clauses:
            kinds[clause.match.kind] = kinds.get(clause.match.kind, 0) + 1
        assert len(doc.clauses) == args.clauses

    print(f"library: {len(index)} variants, index built in {build_ms:.1f} ms")
    print(f"documents: {args.documents} x {args.clauses} clauses, {statistics.mean(map(len, uploads)) / 1024:.0f} KiB each")
    print(f"clauses found: {kinds}")
    print(f"{'per document':<16}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for name, values in (("parse", parse_ms), ("deviations", check_ms)):
        print(f"{name:<16}{percentile(values, 50):>8.1f}{percentile(values, 99):>8.1f}{max(values):>8.1f}")


if __name__ == "__main__":
    main()
