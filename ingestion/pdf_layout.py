"""A page's blocks in reading order and as printed: lines of one paragraph joined, columns, tables, pseudocode set in
the body's font, running heads, footers and page numbers removed."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from ingestion import pseudocode
from ingestion.pdf_spans import ENDS_SENTENCE, FOOTNOTE_MARK
from ingestion.pdf_types import Block, joined_confidence

MARGIN = 0.075  # top and bottom bands of a page where running headers and footers live
BODY_SHARE = 0.95  # of the body's size: running text
NOTE_SHARE = 0.9  # of the body's size: at most a footnote's
MAX_BAND = 80  # narrow blocks between two paragraphs worth trying as two stacks (two listings: 5-30)
PROSE_LINE = 60  # characters: a line this long is running text, not a statement of a listing
PAGE_NUMBER = re.compile(r"^\s*(page\s*)?[\divxlc]+(\s*(of|/)\s*\d+)?\s*$", re.I)


def pseudocode_blocks(blocks: list[Block], body: float) -> list[Block]:
    """Runs of blocks set a little smaller than the body whose lines read as pseudocode become one code block."""
    out: list[Block] = []
    run: list[Block] = []

    def flush() -> None:
        listing, tail = _without_prose_after(run)
        lines = [line for b in listing for line in b.lines]
        if pseudocode.is_pseudocode(lines):
            out.append(
                replace(
                    listing[0],
                    text=pseudocode.listing(lines),
                    kind="code",
                    cells=(),
                    lines=(),
                    emphasis=(),
                    x0=min(b.x0 for b in listing),
                    x1=max(b.x1 for b in listing),
                    y1=max(b.y1 for b in listing),
                )
            )
            out.extend(tail)
        else:
            out.extend(run)  # as read: no listing here, so nothing to part it from
        run.clear()

    for b in blocks:
        fits = b.kind == "text" and bool(b.lines) and pseudocode.smaller_than_body(b.size, body)
        if run and not (fits and b.y0 - run[-1].y0 >= -2 and b.y0 - max(r.y1 for r in run) <= 1.6 * b.size):
            flush()
        if fits:
            run.append(b)
        else:
            out.append(b)
    flush()
    return out


def _without_prose_after(run: list[Block]) -> tuple[list[Block], list[Block]]:
    """A run's listing and the prose under it at its size (a footnote, "(b) Would StoogeSort still sort ..."):
    from the prose's first line (a footnote's mark, or a long line set left of the listing's first) all of it."""
    start = run[0].lines[0][0] if run and run[0].lines else 0.0

    def prose(line: pseudocode.Line) -> bool:
        x, _, size, text = line
        return bool(FOOTNOTE_MARK.match(text)) or (len(text) > PROSE_LINE and x < start - size)

    for i, b in enumerate(run):
        cut = next((k for k, line in enumerate(b.lines) if prose(line)), None)
        if cut is not None:
            kept = [*run[:i], _lines_of(b, 0, cut)] if cut else run[:i]
            return kept, [_lines_of(b, cut, len(b.lines)), *run[i + 1 :]]
    return list(run), []


def _lines_of(block: Block, first: int, last: int) -> Block:
    """Some of a block's lines as a block of their own."""
    lines = block.lines[first:last]
    y1 = block.lines[last][1] if last < len(block.lines) else block.y1
    return replace(block, text=" ".join(t for *_, t in lines), lines=lines, y0=lines[0][1], y1=y1)


def reading_order(blocks: list[Block], width: float) -> list[Block]:
    """Columns left then right within bands separated by full-width blocks (sort by y alone interleaves them)."""
    mid = width / 2
    left = [b for b in blocks if b.x1 <= mid + width * 0.05]
    right = [b for b in blocks if b.x0 >= mid - width * 0.05]
    # Two columns only when left and right blocks stand side by side, not for a lone title or quote.
    side_by_side = sum(1 for r in right if any(r.y0 < lb.y1 and lb.y0 < r.y1 for lb in left))
    if side_by_side < 2 or sum(len(r.text) for r in right) < 0.2 * sum(len(b.text) for b in blocks):
        return _merge_lines(_stacks_in_order(sorted(blocks, key=lambda b: (round(b.y0), b.x0))))
    ordered: list[Block] = []
    band: list[Block] = []
    blocks = _merge_lines(blocks)
    for b in sorted(blocks, key=lambda b: (b.y0, b.x0)):
        if b.x0 < mid - width * 0.05 and b.x1 > mid + width * 0.05:  # full width: closes the band
            ordered += sorted(band, key=lambda c: (c.x0 >= mid - width * 0.05, c.y0))
            ordered.append(b)
            band = []
        else:
            band.append(b)
    return ordered + sorted(band, key=lambda c: (c.x0 >= mid - width * 0.05, c.y0))


def _stacks_in_order(blocks: list[Block]) -> list[Block]:
    """On a page of one column, narrow blocks set side by side between its paragraphs (two listings in one figure)
    read one stack after the other, not line by line across both (sorting by y alone interleaves them)."""
    if len(blocks) < 4:
        return blocks
    left_edge, right_edge = min(b.x0 for b in blocks), max(b.x1 for b in blocks)
    narrow = 0.6 * (right_edge - left_edge)
    out: list[Block] = []
    band: list[Block] = []
    for b in [*blocks, None]:
        if b is not None and b.x1 - b.x0 < narrow:
            band.append(b)
            continue
        out += _two_stacks(band) or band
        band = []
        if b is not None:
            out.append(b)
    return out


def _two_stacks(band: list[Block]) -> list[Block] | None:
    """The band's blocks left stack first, when a vertical gap parts them into two stacks side by side. What lies
    above the stacks or apart below them (a caption, the next heading) keeps its place before or after both. A band of
    many pieces (a figure's cells) stays in y order: the search would cost more than a page may take."""
    if len(band) > MAX_BAND:
        return None
    for gutter in sorted({b.x0 for b in band}):
        right: list[Block] = []
        others: list[Block] = []
        for b in band:
            (right if b.x0 >= gutter - 1 and b.x1 > gutter + 1 else others).append(b)
        if not right or not others:
            continue
        top, bottom = min(r.y0 for r in right), max(r.y1 for r in right)
        left = [b for b in others if top <= (b.y0 + b.y1) / 2 < bottom]
        if not left or any(b.x1 > gutter + 1 for b in left):
            continue
        # The left stack may run on below the right one's end, line after line; what stands apart below both
        # (a caption, the next heading) comes after them.
        for b in sorted((b for b in others if (b.y0 + b.y1) / 2 >= bottom), key=lambda b: b.y0):
            if b.x1 > gutter + 1 or b.y0 - left[-1].y1 > 1.5 * b.size:
                break
            left.append(b)
        after = [b for b in others if (b.y0 + b.y1) / 2 >= bottom and all(b is not lb for lb in left)]
        side_by_side = any(r.y0 < lb.y1 and lb.y0 < r.y1 for r in right for lb in left)
        # Apart by an em at least: pieces of one formula laid out around each other are not two stacks.
        apart = min(r.x0 for r in right) - max(lb.x1 for lb in left) >= min(b.size for b in band)
        # A figure's grid (a label, then a row of letters) is read row by row, a formula's pieces as they come.
        grid = sum(len(r.text) for r in right) < 4 * len(right)
        tall = min(sum(len(b.lines) or 1 for b in stack) for stack in (left, right)) >= 3
        # Short labels each level with a block beside it are a list of terms and what they mean: row by row.
        labelled = all(
            len(lb.lines) <= 1 and len(lb.text.split()) <= 3 and any(abs(r.y0 - lb.y0) < 2 for r in right)
            for lb in left
        )
        if side_by_side and apart and tall and not grid and not labelled:
            return [b for b in others if (b.y0 + b.y1) / 2 < top] + left + right + after
    return None


def _merge_lines(blocks: list[Block]) -> list[Block]:
    """Lines of one paragraph that the PDF wrote as separate blocks, joined back (gap under half a line); the
    pieces of one code listing, split by its blank lines, joined back too."""
    merged: list[Block] = []
    for b in blocks:
        prev = merged[-1] if merged else None
        if prev is not None and prev.kind == b.kind == "code" and 0 <= b.y0 - prev.y1 < 2.5 * b.size:
            merged[-1] = _join_code(prev, b)
        elif (
            prev is not None
            and prev.kind == b.kind == "text"
            and not prev.cells
            and not b.cells
            and abs(prev.size - b.size) < 0.5
            and prev.bold == b.bold
            and 0 <= b.y0 - prev.y1 < 0.5 * b.size
            and abs(prev.x0 - b.x0) < 3 * b.size
        ):
            merged[-1] = replace(
                prev,
                text=f"{prev.text} {b.text}",
                x0=min(prev.x0, b.x0),
                x1=max(prev.x1, b.x1),
                y1=b.y1,
                confidence=joined_confidence(prev, b),
                lines=prev.lines + b.lines,
                emphasis=prev.emphasis + b.emphasis,
            )
        else:
            merged.append(b)
    return merged


def _join_code(a: Block, b: Block) -> Block:
    char = 0.6 * b.size  # a monospaced glyph's advance, near enough to rebuild an indentation
    shift = round((b.x0 - a.x0) / char)
    top = a.text if shift >= 0 else "\n".join(" " * -shift + line for line in a.text.split("\n"))
    bottom = b.text if shift <= 0 else "\n".join(" " * shift + line for line in b.text.split("\n"))
    gap = "\n\n" if b.y0 - a.y1 > 0.6 * b.size else "\n"
    return replace(a, text=f"{top}{gap}{bottom}", x0=min(a.x0, b.x0), x1=max(a.x1, b.x1), y1=b.y1)


def tables(blocks: list[Block]) -> list[Block]:
    """Consecutive rows of cells in the same columns become one Markdown table; a lone row stays text."""
    out: list[Block] = []
    run: list[Block] = []

    def aligned(a: Block, b: Block) -> bool:
        return len(a.cells) == len(b.cells) and all(
            abs(x - y) < 1.5 * b.size for (x, _), (y, _) in zip(a.cells, b.cells, strict=True)
        )

    def flush() -> None:
        if len(run) >= 2:
            rows = [[c.replace("|", "\\|") for _, c in b.cells] for b in run]
            lines = ["| " + " | ".join(r) + " |" for r in rows]
            lines.insert(1, "| " + " | ".join("---" for _ in rows[0]) + " |")
            first, last = run[0], run[-1]
            out.append(replace(first, text="\n".join(lines), kind="table", cells=(), y1=last.y1))
        else:
            out.extend(replace(b, cells=()) for b in run)
        run.clear()

    for b in blocks:
        if b.cells and (not run or aligned(run[-1], b)):
            run.append(b)
            continue
        flush()
        if b.cells:
            run.append(b)
        else:
            out.append(b)
    flush()
    return out


def strip_margins(pages: list[list[Block]], heights: list[float], body: float) -> list[list[Block]]:
    """Drop running headers/footers: short lines in the page margins that recur on many pages."""

    def zone(b: Block, h: float) -> str | None:
        if b.y1 <= h * MARGIN * 1.2:
            return "top"
        if b.y0 >= h * (1 - MARGIN * 1.2):
            return "bottom"
        return None

    normal = Counter[str]()
    exact = Counter[str]()
    zone_pages = Counter[str]()
    for blocks, h in zip(pages, heights, strict=True):
        seen_zones = set()
        for b in blocks:
            z = zone(b, h)
            if z and len(b.text) < 100:
                normal[re.sub(r"[\d\W]+", "", b.text.lower())] += 1
                exact[b.text] += 1
                seen_zones.add(z)
        zone_pages.update(seen_zones)
    many = max(3, len(pages) // 3)
    running = {z for z, n in zone_pages.items() if n >= many}
    kept = []
    for blocks, h in zip(pages, heights, strict=True):
        page_blocks = []
        for b in blocks:
            z = zone(b, h)
            if (
                z
                and b.kind == "text"
                and len(b.text) < 100
                and (
                    PAGE_NUMBER.match(b.text)
                    or exact[b.text] >= many
                    # "Chapter 3: Cells" atop its first page differs from the others by its number alone, like a
                    # running header does; but a header is not set larger than the body text.
                    or (normal[re.sub(r"[\d\W]+", "", b.text.lower())] >= many and b.size < body * 1.15)
                    or (z in running and b.size <= body and not _running_text(b))
                )
            ):
                continue
            page_blocks.append(b)
        kept.append(page_blocks)
    return kept


def _running_text(block: Block) -> bool:
    """A paragraph's line carried over the page break reads as text (a sentence's end, a lower-case start)."""
    return block.text.rstrip().endswith((".", "!", "?")) or block.text[:1].islower()


def snap_recognised_sizes(pages: list[list[Block]]) -> list[list[Block]]:
    """Recognised text's sizes are estimates from its height: each takes the nearest size the text layer uses
    (within 15%), so a scanned page's body text and headings rank with the typed pages' own."""
    typed = sorted({b.size for blocks in pages for b in blocks if b.confidence is None and b.kind == "text"})
    if not typed:
        return pages

    def snap(b: Block) -> Block:
        if b.confidence is None:
            return b
        near = min(typed, key=lambda size: abs(size - b.size))
        return replace(b, size=near) if abs(near - b.size) <= 0.15 * near else b

    return [[snap(b) for b in blocks] for blocks in pages]


def without_footnotes(pages: list[list[Block]], body: float) -> list[list[Block]]:
    """The pages without their footnotes: below all of a page's body text, set smaller than it, from the first one
    that opens with its mark ("5Goldstine and von Neumann ..."), or from the zone's top when the page before ended
    inside a footnote. Textbooks set them at ~80% of the body, where code is too, so size alone cannot tell them."""
    out: list[list[Block]] = []
    inside = False  # the previous page's last footnote stopped mid-sentence: it carries on at this page's foot
    for blocks in pages:
        text = [b for b in blocks if b.kind == "text" and not b.cells]
        bottom = max((b.y1 for b in text if b.size >= BODY_SHARE * body), default=None)
        zone = [b for b in text if bottom is not None and b.y0 >= bottom - 1 and b.size <= NOTE_SHARE * body]
        zone.sort(key=lambda b: b.y0)
        notes: list[Block] = []
        for b in zone:
            if notes or inside or FOOTNOTE_MARK.match(b.text):
                notes.append(b)
        inside = bool(notes) and not ENDS_SENTENCE.search(notes[-1].text.rstrip())
        out.append([b for b in blocks if b not in notes])
    return out
