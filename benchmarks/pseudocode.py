"""Listings the parser finds in the Erickson chapters (issue 15, item 2); prints JSON.

    python benchmarks/pseudocode.py [--show]

Erickson sets pseudocode in the body's font, a little smaller, indented in steps, often two algorithms side by
side in one figure; the parser recognises it by its layout (`ingestion.pseudocode`, `ingestion.pdf_layout`). Per
file: the code blocks of its topics and their lines; then, over all files, how many listings still look like two
read across each other (a line holding two statements far apart, "Merge(A[1.. n], m):    if j > n") and how many
lines are a single character (a figure's row read as a staircase). With --show, each listing's first lines, to judge
by eye that none is prose.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingestion.pdf import parse_pdf  # noqa: E402

ERICKSON = REPO.parent / "shared" / "data" / "erickson_algorithms"
# Two headers on one row: two listings read across each other.
TWO_HEADERS = re.compile(r"^\s*[A-Z]\w*\([^)]*\)\s*:\s{2,}[A-Z]\w*\([^)]*\)\s*:")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"files": {}}
    shown = []
    interleaved = staircase = 0
    for path in sorted(ERICKSON.glob("*.pdf")):
        doc = parse_pdf(path.read_bytes(), path.name)
        listings = [(p.page, p.text) for s in doc.sections for p in s.paragraphs if p.kind == "code"]
        lines = [line for _, text in listings for line in text.split("\n")[1:-1]]
        report["files"][path.name] = {"listings": len(listings), "lines": len(lines)}
        interleaved += sum(any(TWO_HEADERS.match(line) for line in text.split("\n")) for _, text in listings)
        staircase += sum(len(line.strip()) == 1 for line in lines)
        shown += [{"file": path.name, "page": n, "first_lines": text.split("\n")[1:4]} for n, text in listings]
    report["listings"] = sum(f["listings"] for f in report["files"].values())
    report["lines"] = sum(f["lines"] for f in report["files"].values())
    report["listings_with_two_headers_on_a_row"] = interleaved
    report["one_character_lines"] = staircase
    if args.show:
        report["found"] = shown
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
