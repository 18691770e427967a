"""Pseudocode set in a proportional font, recognised by its layout (textbooks such as Erickson's set algorithms
in the body's font, a little smaller, indented in steps, each line a statement).

A run of consecutive lines set at 80-95% of the body size (figures with two listings side by side set them at
~82%) is pseudocode when it has at least three lines, two indentation levels or more, and either keyword line
starts (if, else, while, for, return, ...) on a quarter of its lines, a header such as `Name(args):`, or
Erickson's comments (⟨⟨...⟩⟩, read from its math font by `ingestion.pdf_spans`; "hh...ii" where a font was not
recognised). Footnotes set at that size are parted from a listing by `ingestion.pdf_layout` before this rule sees its
lines. What the parser finds in the Erickson chapters: `benchmarks/pseudocode.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

KEYWORD = re.compile(
    r"^(if|else|while|for|return|repeat|until|do|then|elif|for each|foreach|swap|output|let|call)\b", re.I
)
HEADER = re.compile(r"^[A-Z][A-Za-z0-9]*\s*\(.*\)\s*:\s*$")
COMMENT = re.compile("\u27e8\u27e8.*\u27e9\u27e9|hh.*ii")
SMALLER = (0.8, 0.95)  # of the body size: figures set side by side use ~82%

Line = tuple[float, float, float, str]  # x0, y0, size, text


def smaller_than_body(size: float, body: float) -> bool:
    return SMALLER[0] * body <= size <= SMALLER[1] * body


def is_pseudocode(lines: Sequence[Line]) -> bool:
    if len(lines) < 3:
        return False
    left = min(x for x, *_ in lines)
    size = sorted(s for _, _, s, _ in lines)[len(lines) // 2]
    levels = {round((x - left) / size) for x, *_ in lines}
    keyed = sum(1 for *_, t in lines if KEYWORD.match(t))
    header = any(HEADER.match(t) for *_, t in lines[:2])
    comments = any(COMMENT.search(t) for *_, t in lines)
    return len(levels) >= 2 and (keyed >= max(2, 0.25 * len(lines)) or header or comments)


def listing(lines: Sequence[Line]) -> str:
    """The lines as a listing: one row per baseline (a comment beside its statement), indented by level."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln[1], ln[0])):
        if rows and abs(rows[-1][0][1] - line[1]) < 0.5 * line[2]:
            rows[-1].append(line)
        else:
            rows.append([line])
    for row in rows:
        row.sort(key=lambda ln: ln[0])
    starts = sorted({round(row[0][0]) for row in rows})
    levels: list[int] = []  # indentation steps: starts closer than half a line's size are one level
    for x in starts:
        if not levels or x - levels[-1] > 0.5 * rows[0][0][2]:
            levels.append(x)
    out = []
    for row in rows:
        depth = max((i for i, x in enumerate(levels) if x <= round(row[0][0]) + 0.5 * row[0][2]), default=0)
        out.append("    " * depth + "    ".join(t.strip() for *_, t in row))
    return "\n".join(out)
