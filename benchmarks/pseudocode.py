"""Can layout recognise pseudocode set in a proportional font (issue 15, item 2)? A measurement, not yet the parser.

    python benchmarks/pseudocode.py [--show]

On the Erickson chapters, pseudocode is set in the body's font but smaller (9.6 pt against 10.5), indented in
steps of about two ems, and split by the PDF into blocks of one to four lines, so a rule over PDF blocks sees
fragments (and flags prose whose lines happen to start with "if" or "for"). Here the rule works on a page's
lines in order: a run of consecutive lines set at 85-95% of the body size, with at least two indentation levels,
and either keyword line starts (if, else, while, for, return, ...) on a quarter of its lines, a header such as
`Name(args):`, or Erickson's comments (〈〈...〉〉, which extract as "hh...ii"). Prints JSON: runs and lines found
per file, and with --show each run's first lines to judge by eye that none is prose.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pymupdf

ERICKSON = Path(__file__).resolve().parents[2] / "shared" / "data" / "erickson_algorithms"
KEYWORD = re.compile(
    r"^(if|else|while|for|return|repeat|until|do|then|elif|for each|foreach|swap|output|let|call)\b", re.I
)
HEADER = re.compile(r"^[A-Z][A-Za-z0-9]*\s*\(.*\)\s*:\s*$")
COMMENT = re.compile(r"hh.*ii")

Line = tuple[float, float, float, float, str]  # y0, x0, y1, size, text


def page_lines(page: Any, sizes: Counter[float]) -> list[Line]:
    lines = []
    for block in page.get_text("dict")["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            spans = [s for s in line["spans"] if s["text"].strip()]
            if not spans:
                continue
            text = "".join(s["text"] for s in line["spans"]).strip()
            size = max(spans, key=lambda s: len(s["text"].strip()))["size"]
            sizes[round(size, 1)] += len(text)
            lines.append((line["bbox"][1], line["bbox"][0], line["bbox"][3], size, text))
    return sorted(lines)


def is_pseudocode(run: list[Line]) -> bool:
    if len(run) < 3:
        return False
    left = min(x for _, x, *_ in run)
    levels = {round((x - left) / run[0][3]) for _, x, *_ in run}
    keyed = sum(1 for *_, t in run if KEYWORD.match(t))
    header = any(HEADER.match(t) for *_, t in run[:2])
    comments = any(COMMENT.search(t) for *_, t in run)
    return len(levels) >= 2 and (keyed >= max(2, 0.25 * len(run)) or header or comments)


def runs(lines: list[Line], body: float) -> list[list[Line]]:
    """Consecutive lines set a little smaller than the body, broken by a gap or a line of another size."""
    found: list[list[Line]] = []
    run: list[Line] = []
    for line in lines:
        y0, _, _, size, _ = line
        smaller = 0.85 * body <= size <= 0.95 * body
        other_size = run and not smaller and abs(y0 - run[-1][0]) > 2  # (a span on the same row does not count)
        gap = run and smaller and y0 - run[-1][2] > 1.6 * size
        if other_size or gap:
            found.append(run)
            run = []
        if smaller:
            run.append(line)
    return [r for r in [*found, run] if is_pseudocode(r)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"files": {}}
    shown = []
    for path in sorted(ERICKSON.glob("*.pdf")):
        sizes: Counter[float] = Counter()
        with pymupdf.open(path) as doc:
            pages = [page_lines(page, sizes) for page in doc]
        body = sizes.most_common(1)[0][0]
        found = [(number, r) for number, lines in enumerate(pages, 1) for r in runs(lines, body)]
        report["files"][path.name] = {"body_pt": body, "runs": len(found), "lines": sum(len(r) for _, r in found)}
        shown += [{"file": path.name, "page": n, "first_lines": [t[:70] for *_, t in r[:3]]} for n, r in found]
    report["runs"] = sum(f["runs"] for f in report["files"].values())
    report["lines"] = sum(f["lines"] for f in report["files"].values())
    if args.show:
        report["found"] = shown
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
