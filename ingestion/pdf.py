"""PDF to text with page numbers: reading order, headings (outline or font size), clean paragraphs.

Headers, footers and page numbers are removed; hyphenated line breaks are joined; pages without a text
layer that look like printed text are reported as scanned (for `ingestion.ocr` to recognise), pictures and blank
pages as skipped with their reason, never silently.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pymupdf

from ingestion import pseudocode
from ingestion.errors import IngestionError

# TEXT_DEHYPHENATE joins "exam-\nple"; ligatures and whitespace are kept as the PDF has them.
TEXT_FLAGS = pymupdf.TEXT_DEHYPHENATE | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
MARGIN = 0.075  # top and bottom bands of a page where running headers and footers live
PAGE_NUMBER = re.compile(r"^\s*(page\s*)?[\divxlc]+(\s*(of|/)\s*\d+)?\s*$", re.I)
# Glyphs without a Unicode mapping come out as U+FFFD/U+FFFF or private-use codes: drop them.
GARBAGE = re.compile(r"[\ufffd\uffff\ue000-\uf8ff\u0000-\u0008\u2122]")
SPACES = re.compile(r"\s+")
# How many paragraphs back a lower-case paragraph may carry on a cut sentence (footnotes, formulas between).
CARRY_BACK = 3
FOOTNOTE_START = re.compile(r"^\^?\d{1,3}\s?[A-Z]")  # "6Hoare proposed ...", "^13See ..."
SENTENCE_END = re.compile(r"[.!?:;][\"\u201d\u2019)\]]*$")
MONOSPACED, BOLD, SUPERSCRIPT = 8, 16, 1  # span flags
MONO_FONT = re.compile(r"courier|mono|consol|menlo|inconsolata|typewriter|cmtt|lmtt|sourcecode|firacode|code", re.I)
NUMBERING = re.compile(r"^\s*(chapter\s+|part\s+|section\s+)?((\d+|[ivxlc]+)(\.\d+)*\.?)\s+", re.I)
# A page with fewer characters than this (a scanner's stamp, a page number) and a picture over much of it is a scan.
MIN_TEXT_CHARS = 50
SCAN_COVER = 0.3  # share of the page under pictures for a page with a few characters to count as a scan


@dataclass(frozen=True)
class PageText:
    number: int
    text: str


BlockKind = Literal["text", "code", "table"]


@dataclass(frozen=True)
class Paragraph:
    """Running text, or a code block / table already as Markdown (fenced code, pipe table), kept whole."""

    text: str
    page: int
    kind: BlockKind = "text"
    confidence: float | None = None  # recognised by OCR with this confidence (0-1); None: from the text layer


@dataclass
class Section:
    level: int
    title: str
    page_start: int
    page_end: int
    paragraphs: list[Paragraph] = field(default_factory=list)
    untitled: bool = False  # the text before the first heading (its title is the file's name)


@dataclass
class ParsedDocument:
    filename: str
    page_count: int
    pages: list[PageText]
    sections: list[Section]
    scanned_pages: list[int]  # no text layer, look like printed text: to recognise (after OCR: still without text)
    has_outline: bool
    recognised_pages: dict[int, float] = field(default_factory=dict)  # page -> mean OCR confidence of its text
    skipped_pages: dict[int, str] = field(default_factory=dict)  # page without text -> why it was left out


@dataclass(frozen=True)
class Block:
    page: int
    text: str
    size: float
    bold: bool
    x0: float
    y0: float
    x1: float
    y1: float
    kind: BlockKind = "text"
    cells: tuple[tuple[float, str], ...] = ()  # a table row laid out in cells: (left edge, text) of each
    confidence: float | None = None  # recognised by OCR (see Paragraph)
    lines: tuple[pseudocode.Line, ...] = ()  # running text's lines as laid out, to recognise pseudocode


def _ends(data: bytes | Path) -> tuple[bytes, bytes]:
    """The first KiB and the last 4 KiB, read from disk for a file (an upload is never read whole for them)."""
    if isinstance(data, bytes):
        return data[:1024], data[-4096:]
    with data.open("rb") as f:
        head = f.read(1024)
        f.seek(max(0, f.seek(0, 2) - 4096))
        return head, f.read()


def _open(data: bytes | Path, filename: str) -> Any:
    head, tail = _ends(data)
    if b"%PDF-" not in head:
        raise IngestionError("not_a_pdf", "this is not a PDF file (its content says otherwise, whatever its name)")
    if b"%%EOF" not in tail:
        # Readers repair a cut-off file silently and show what survived; a course must not be built from half.
        raise IngestionError(
            "corrupt_pdf", "the PDF is incomplete (it ends before its end-of-file marker); upload it again"
        )
    try:
        if isinstance(data, Path):  # MuPDF reads from the file as it needs to
            doc = pymupdf.open(str(data), filetype="pdf")  # type: ignore[no-untyped-call]
        else:
            doc = pymupdf.open(stream=data, filetype="pdf")  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise IngestionError("corrupt_pdf", f"the PDF cannot be read ({exc}); is the file complete?") from None
    if doc.needs_pass:
        raise IngestionError("encrypted_pdf", "the PDF is password-protected; upload an unlocked copy")
    if doc.page_count == 0:
        raise IngestionError("corrupt_pdf", "the PDF has no readable pages; is the file complete?")
    return doc


def inspect_pdf(data: bytes | Path, filename: str, *, max_pages: int | None = None) -> int:
    """The cheap checks an upload can afford to make at once (of its bytes or its file); returns the page count."""
    doc = _open(data, filename)
    try:
        try:
            doc.load_page(doc.page_count - 1)  # a truncated file often fails only at its last pages
        except Exception:
            raise IngestionError("corrupt_pdf", "the PDF is damaged or incomplete") from None
        if max_pages is not None and doc.page_count > max_pages:
            raise IngestionError("too_many_pages", f"{doc.page_count} pages is over the limit of {max_pages}")
        return int(doc.page_count)
    finally:
        doc.close()


def clean(text: str) -> str:
    return SPACES.sub(" ", GARBAGE.sub("", text)).strip()


def _mono(span: dict[str, Any]) -> bool:
    return bool(span["flags"] & MONOSPACED) or _mono_font(span["font"])


@lru_cache(maxsize=1024)
def _mono_font(name: str) -> bool:
    return bool(MONO_FONT.search(name))  # asked once per span (~900 a page): a book uses a few dozen fonts


def _line_runs(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A PDF block's lines in runs of one style: a heading or a code listing set in the block is its own run."""
    runs: list[list[dict[str, Any]]] = []
    previous: tuple[bool, float] | None = None
    for line in lines:
        spans = [s for s in line["spans"] if s["text"].strip()]
        if not spans:
            continue
        chars = sum(len(s["text"].strip()) for s in spans)
        mono = sum(len(s["text"].strip()) for s in spans if _mono(s)) >= 0.8 * chars
        size = max(spans, key=lambda s: len(s["text"].strip()))["size"]
        if previous is None or previous[0] != mono or abs(previous[1] - size) > 1.0:
            runs.append([])
        runs[-1].append(line)
        previous = (mono, size)
    return runs


def _code_text(lines: list[dict[str, Any]]) -> str:
    """Lines as printed: line breaks kept, indentation rebuilt from each line's position."""
    widths = [
        (s["bbox"][2] - s["bbox"][0]) / len(s["text"]) for line in lines for s in line["spans"] if len(s["text"]) >= 4
    ]
    char = sorted(widths)[len(widths) // 2] if widths else 6.0
    left = min(line["bbox"][0] for line in lines)
    out = []
    for line in lines:
        text = GARBAGE.sub("", "".join(s["text"] for s in line["spans"])).rstrip()
        out.append(" " * max(0, round((line["bbox"][0] - left) / char)) + text)
    return "\n".join(out)


def _prose_text(lines: list[dict[str, Any]]) -> str:
    """Lines joined into running text; monospaced words inside it stay inline code (`name`)."""
    parts = []
    for line in lines:
        pieces = []
        for span in line["spans"]:
            text = span["text"]
            if _mono(span) and text.strip():
                lead, core, trail = text[: len(text) - len(text.lstrip())], text.strip(), text[len(text.rstrip()) :]
                text = f"{lead}`{core}`{trail}"
            elif span["flags"] & SUPERSCRIPT and text.strip() and len(text.strip()) <= 3:
                text = f"^{text.strip()}"  # x², not x2: a formula keeps its exponent
            pieces.append(text)
        parts.append("".join(pieces))
    return clean(" ".join(parts)).replace("` `", " ").replace("``", "")


def _grid_rows(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The block's lines as table rows when they sit side by side in cells, each row with the same count."""
    rows: list[list[dict[str, Any]]] = []
    for line in sorted(lines, key=lambda ln: (ln["bbox"][1], ln["bbox"][0])):
        if rows and abs(rows[-1][0]["bbox"][1] - line["bbox"][1]) < 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        return []
    for row in rows:
        row.sort(key=lambda ln: ln["bbox"][0])
        size = row[0]["spans"][0]["size"]
        if any(b["bbox"][0] - a["bbox"][2] < size for a, b in pairwise(row)):
            return []  # words of one line, not cells
    return rows


def _style(lines: list[dict[str, Any]]) -> tuple[float, bool, bool]:
    """The size most of the text is set in, whether most of it is bold, whether it is monospaced (code).

    Glyphs without a Unicode mapping (dingbats, stars) count for nothing: a marker must not set a heading's size."""
    sizes: Counter[float] = Counter()
    bold_chars = mono_chars = 0
    for line in lines:
        for span in line["spans"]:
            n = len(GARBAGE.sub("", span["text"]).strip())
            sizes[round(span["size"], 1)] += n
            bold_chars += n if span["flags"] & BOLD else 0
            mono_chars += n if _mono(span) else 0
    total = sum(sizes.values())
    if not total:
        return 0.0, False, False
    return sizes.most_common(1)[0][0], bold_chars > 0.6 * total, mono_chars >= 0.8 * total


def _blocks(page: Any, number: int) -> list[Block]:
    out = []
    for b in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        if b.get("type") != 0:
            continue
        rows = _grid_rows(b["lines"])
        for row in rows:
            cells = tuple((ln["bbox"][0], clean("".join(s["text"] for s in ln["spans"]))) for ln in row)
            size, bold, _ = _style(row)
            x0, y0 = row[0]["bbox"][0], min(ln["bbox"][1] for ln in row)
            x1, y1 = row[-1]["bbox"][2], max(ln["bbox"][3] for ln in row)
            laid = tuple((x, y0, size, c) for x, c in cells if c)
            text = " ".join(c for _, c in cells if c)
            out.append(Block(number, text, size, bold, x0, y0, x1, y1, "text", cells, lines=laid))
        if rows:
            continue
        for lines in _line_runs(b["lines"]):
            size, bold, code = _style(lines)
            text = _code_text(lines) if code else _prose_text(lines)
            if not text.strip() or not size:
                continue
            x0 = min(line["bbox"][0] for line in lines)
            y0 = min(line["bbox"][1] for line in lines)
            x1 = max(line["bbox"][2] for line in lines)
            y1 = max(line["bbox"][3] for line in lines)
            kind: BlockKind = "code" if code else "text"
            laid = () if code else tuple(_laid_out(line) for line in lines)
            out.append(Block(number, text, size, bold, x0, y0, x1, y1, kind, lines=laid))
    return out


def _laid_out(line: dict[str, Any]) -> pseudocode.Line:
    spans = [s for s in line["spans"] if s["text"].strip()] or line["spans"]
    size = max(spans, key=lambda s: len(s["text"].strip()))["size"]
    return line["bbox"][0], line["bbox"][1], size, clean("".join(s["text"] for s in line["spans"]))


def _pseudocode(blocks: list[Block], body: float) -> list[Block]:
    """Runs of blocks set a little smaller than the body whose lines read as pseudocode become one code block."""
    out: list[Block] = []
    run: list[Block] = []

    def flush() -> None:
        lines = [line for b in run for line in b.lines]
        if pseudocode.is_pseudocode(lines):
            first = run[0]
            out.append(
                replace(
                    first,
                    text=pseudocode.listing(lines),
                    kind="code",
                    cells=(),
                    lines=(),
                    x0=min(b.x0 for b in run),
                    x1=max(b.x1 for b in run),
                    y1=max(b.y1 for b in run),
                )
            )
        else:
            out.extend(run)
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


def _reading_order(blocks: list[Block], width: float) -> list[Block]:
    """Columns left then right within bands separated by full-width blocks (sort by y alone interleaves them)."""
    mid = width / 2
    left = [b for b in blocks if b.x1 <= mid + width * 0.05]
    right = [b for b in blocks if b.x0 >= mid - width * 0.05]
    # Two columns only when left and right blocks stand side by side, not for a lone title or quote.
    side_by_side = sum(1 for r in right if any(r.y0 < lb.y1 and lb.y0 < r.y1 for lb in left))
    if side_by_side < 2 or sum(len(r.text) for r in right) < 0.2 * sum(len(b.text) for b in blocks):
        return _merge_lines(sorted(blocks, key=lambda b: (round(b.y0), b.x0)))
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
            )
        else:
            merged.append(b)
    return merged


def joined_confidence(*blocks: Block | Paragraph) -> float | None:
    """The OCR confidence of blocks joined into one: their mean weighted by length; None when none was recognised."""
    known = [(b.confidence, len(b.text)) for b in blocks if b.confidence is not None]
    if not known:
        return None
    return sum(c * n for c, n in known) / max(1, sum(n for _, n in known))


def _join_code(a: Block, b: Block) -> Block:
    char = 0.6 * b.size  # a monospaced glyph's advance, near enough to rebuild an indentation
    shift = round((b.x0 - a.x0) / char)
    top = a.text if shift >= 0 else "\n".join(" " * -shift + line for line in a.text.split("\n"))
    bottom = b.text if shift <= 0 else "\n".join(" " * shift + line for line in b.text.split("\n"))
    gap = "\n\n" if b.y0 - a.y1 > 0.6 * b.size else "\n"
    return replace(a, text=f"{top}{gap}{bottom}", x0=min(a.x0, b.x0), x1=max(a.x1, b.x1), y1=b.y1)


def _tables(blocks: list[Block]) -> list[Block]:
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


def _strip_margins(pages: list[list[Block]], heights: list[float], body: float) -> list[list[Block]]:
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


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", NUMBERING.sub("", text.lower()))


def _needs_ocr(page: Any, blocks: list[Block]) -> bool:
    """No text layer (or a few characters) where something is drawn: a scan, or text drawn as outlines."""
    chars = sum(len(b.text.replace(" ", "")) for b in blocks)
    if chars >= MIN_TEXT_CHARS:
        return False
    if not chars:
        return bool(page.get_images() or page.get_drawings())
    area = abs(page.rect)
    covered = sum(abs(pymupdf.Rect(info["bbox"]) & page.rect) for info in page.get_image_info())  # type: ignore[no-untyped-call]
    return bool(area) and covered >= SCAN_COVER * area


def _not_text(page: Any) -> str | None:
    """Why a page without a text layer is not worth recognising (a picture, blank), from a 40-dpi drawing of it;
    None when it looks like printed text: mostly paper of one tone, with some ink on it."""
    pix = page.get_pixmap(dpi=40, colorspace=pymupdf.csGRAY, alpha=False)
    gray = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, : pix.width]
    counts = np.bincount(gray.ravel(), minlength=256)
    paper = int(counts.argmax())
    near = counts[max(0, paper - 24) : paper + 25].sum() / gray.size
    ink = (counts[: max(0, paper - 80)].sum() + counts[paper + 81 :].sum()) / gray.size
    if near < 0.6 or ink > 0.3:  # text pages measured: 80-95% paper, 2-15% ink; photos and noise are neither
        return "it looks like a picture, not text"
    if ink < 0.002:
        for image in page.get_images():
            # MuPDF draws a picture it cannot decode as nothing, with a warning instead of an error.
            pymupdf.TOOLS.reset_mupdf_warnings()  # type: ignore[no-untyped-call]
            try:
                pymupdf.Pixmap(page.parent, image[0])  # type: ignore[no-untyped-call]
            except Exception:
                return "its picture cannot be read"
            if "error" in pymupdf.TOOLS.mupdf_warnings():  # type: ignore[no-untyped-call]
                return "its picture cannot be read"
        return "it is blank"
    return None


def _not_text_safely(page: Any) -> str | None:
    try:
        return _not_text(page)
    except Exception as exc:  # a picture that cannot be decoded leaves its page out, not the whole file
        return f"its picture cannot be read ({str(exc)[:120] or type(exc).__name__})"


@dataclass(frozen=True)
class PageRead:
    """One page as read: its blocks in reading order, and whether it still needs OCR or was left out (why)."""

    blocks: list[Block]
    height: float
    scanned: bool = False
    skipped: str | None = None


def read_pages(
    data: bytes, filename: str, first: int, last: int, ocr: Mapping[int, Sequence[Block]] | None = None
) -> list[PageRead]:
    """Pages `first` to `last` (0-based, `last` excluded) as read. The heavy part of parsing, page by page: any
    range of pages can be read apart from the others (`parse_pdf`'s `read`)."""
    ocr = ocr or {}
    doc = _open(data, filename)
    out = []
    try:
        for index in range(first, last):
            scanned, skipped = False, None
            try:
                page = doc.load_page(index)
                blocks = _blocks(page, index + 1)
                if index + 1 in ocr:
                    blocks = list(ocr[index + 1])
                elif _needs_ocr(page, blocks):
                    skipped = _not_text_safely(page)
                    scanned = skipped is None
            except Exception:
                raise IngestionError("corrupt_pdf", f"page {index + 1} cannot be read; is the file complete?") from None
            out.append(PageRead(_reading_order(blocks, page.rect.width), page.rect.height, scanned, skipped))
    finally:
        doc.close()
    return out


# Reads all `count` pages, in order, with the function it is given (pages first to last): in one go by default; the
# parse sandbox reads parts of a long PDF in parallel processes.
PagesReader = Callable[[Callable[[int, int], list[PageRead]], int], list[PageRead]]


def _read_in_one_go(read: Callable[[int, int], list[PageRead]], count: int) -> list[PageRead]:
    return read(0, count)


def parse_pdf(
    data: bytes,
    filename: str,
    *,
    max_pages: int | None = None,
    ocr: Mapping[int, Sequence[Block]] | None = None,
    pages_reader: PagesReader = _read_in_one_go,
) -> ParsedDocument:
    """The document's text and sections. `ocr`: the blocks recognised on scanned pages (`ingestion.ocr`), which
    take the place of what little text those pages had. Without them, a PDF whose only content is scanned pages
    comes back without sections (and its `scanned_pages` to recognise) instead of failing."""
    doc = _open(data, filename)
    try:
        if max_pages is not None and doc.page_count > max_pages:
            raise IngestionError("too_many_pages", f"{doc.page_count} pages is over the limit of {max_pages}")
        count = doc.page_count
        toc = doc.get_toc(simple=True)
    finally:
        doc.close()
    reads = pages_reader(lambda first, last: read_pages(data, filename, first, last, ocr), count)
    raw = [r.blocks for r in reads]
    heights = [r.height for r in reads]
    scanned = [n for n, r in enumerate(reads, 1) if r.scanned]
    skipped = {n: r.skipped for n, r in enumerate(reads, 1) if r.skipped}
    raw = _snap_recognised_sizes(raw)
    typed = Counter[float]()
    for blocks in raw:
        for b in blocks:
            typed[b.size] += len(b.text) if b.kind == "text" and not b.cells else 0
    if typed:  # the body's size, as below, to know pseudocode by its smaller print before tables are made
        body_guess = typed.most_common(1)[0][0]
        raw = [_pseudocode(blocks, body_guess) for blocks in raw]
    raw = [_tables(blocks) for blocks in raw]
    sizes = Counter[float]()
    for blocks in raw:
        for b in blocks:
            sizes[b.size] += len(b.text) if b.kind == "text" else 0
    if not sizes and scanned:
        blank = [PageText(i + 1, "") for i in range(len(raw))]
        return ParsedDocument(filename, len(raw), blank, [], scanned, False, skipped_pages=skipped)
    if not sizes:
        raise IngestionError(
            "empty_pdf", "the PDF has no text layer and no page looks like printed text; upload a text PDF"
        )
    body = sizes.most_common(1)[0][0]
    pages = _strip_margins(raw, heights, body)
    # Small print (footnotes, figure labels) stays out of the running text.
    # Code is often set smaller than the body, and is kept whatever its size.
    pages = [[b for b in blocks if b.size >= body * 0.8 or b.kind != "text"] for blocks in pages]
    page_texts = [PageText(i + 1, "\n\n".join(b.text for b in blocks)) for i, blocks in enumerate(pages)]
    usable_toc = [(int(lvl), clean(str(title)), int(pg)) for lvl, title, pg in toc if clean(str(title)) and pg >= 1]
    headings = _outline_headings(pages, usable_toc) if usable_toc else _font_headings(pages, body)
    return ParsedDocument(
        filename=filename,
        page_count=len(pages),
        pages=page_texts,
        sections=_sections(pages, headings, filename),
        scanned_pages=scanned,
        has_outline=bool(usable_toc),
        recognised_pages=_recognised(pages, set(ocr or ())),
        skipped_pages=skipped,
    )


def _snap_recognised_sizes(pages: list[list[Block]]) -> list[list[Block]]:
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


def _recognised(pages: list[list[Block]], numbers: set[int]) -> dict[int, float]:
    """Each page recognised by OCR that kept text, with the mean confidence of what it kept."""
    out = {}
    for number in sorted(numbers):
        confidence = joined_confidence(*pages[number - 1]) if number <= len(pages) else None
        if confidence is not None:
            out[number] = round(confidence, 3)
    return out


Heading = tuple[int, str]  # (level, title)


def _outline_headings(pages: list[list[Block]], toc: list[tuple[int, str, int]]) -> dict[tuple[int, int], Heading]:
    """Bookmarks located on their pages: the block whose text is the title (else the page's start)."""
    found: dict[tuple[int, int], Heading] = {}
    for level, title, page in toc:
        if page > len(pages):
            continue
        key = _norm(title)
        index = next((i for i, b in enumerate(pages[page - 1]) if key and _norm(b.text) == key), None)
        if index is None:
            index = next((i for i, b in enumerate(pages[page - 1]) if key and _norm(b.text).startswith(key)), -1)
        found[(page, index)] = (level, title)
    return found


def _font_headings(pages: list[list[Block]], body: float) -> dict[tuple[int, int], Heading]:
    """Headings by size: short blocks set larger than the body (or bold and numbered), ranked into levels."""
    candidates: list[tuple[int, int, float, str]] = []
    for p, blocks in enumerate(pages, 1):
        for i, b in enumerate(blocks):
            if b.kind != "text":
                continue
            title = NUMBERING.sub("", b.text.lstrip(" .")).strip(" .:-")
            if not title or len(b.text) > 120 or not re.search(r"[A-Za-z]{3}", title) or title.endswith((".", ",")):
                continue
            if b.size >= body * 1.15 or (b.bold and b.size >= body and NUMBERING.match(b.text)):
                candidates.append((p, i, b.size, title))
    levels = sorted({round(size) for *_, size, _ in candidates}, reverse=True)[:3]
    return {(p, i): (levels.index(round(size)) + 1, title) for p, i, size, title in candidates if round(size) in levels}


def _carried_on(paragraphs: list[Paragraph], new: Paragraph) -> list[Paragraph]:
    """`paragraphs` with `new` added, or joined to the paragraph whose last sentence it carries on: a page or column
    break cut it ("... the correctness of the algorithm does not" / "depend on the precise data ..."), often with
    a footnote, a margin note or a displayed formula set between the two parts, which then follow it.

    A paragraph in lower case with no unfinished sentence before it opens a paragraph of its own (glossary-style
    notes: "critical density, the density needed to just halt universal expansion.")."""
    if new.kind != "text" or not new.text[:1].islower() or _statement(new.text):
        return [*paragraphs, new]
    for back in range(1, min(CARRY_BACK, len(paragraphs)) + 1):
        cut = paragraphs[-back]
        if cut.kind == "text" and not SENTENCE_END.search(cut.text.rstrip()):
            joined = Paragraph(f"{cut.text} {new.text}", cut.page, "text", joined_confidence(cut, new))
            return [*paragraphs[:-back], joined, *paragraphs[len(paragraphs) - back + 1 :]]
        if not _set_apart(cut):
            break  # running text between: the lower-case paragraph does not carry on anything before it
    return [*paragraphs, new]


def _set_apart(paragraph: Paragraph) -> bool:
    """What a layout sets between the two parts of a cut paragraph: a footnote ("6Hoare proposed ...") or a
    displayed formula. Not a listing: text that follows code in lower case reads on from the listing."""
    text = paragraph.text.strip()
    letters = sum(c.isalpha() for c in text)
    return paragraph.kind == "text" and (bool(FOOTNOTE_START.match(text)) or letters < 0.5 * len(text.replace(" ", "")))


def _statement(text: str) -> bool:
    """A line of pseudocode that was not recognised as a listing ("if j > n", "for i 1 to n"): not prose."""
    return bool(pseudocode.COMMENT.search(text)) or (
        bool(pseudocode.KEYWORD.match(text)) and len(text.split()) <= 8 and not SENTENCE_END.search(text)
    )


def _markdown(block: Block) -> str:
    if block.kind == "code":
        return f"```\n{block.text}\n```"
    return block.text


def _sections(pages: list[list[Block]], headings: dict[tuple[int, int], Heading], filename: str) -> list[Section]:
    sections: list[Section] = []
    current = Section(1, filename.rsplit(".", 1)[0], 1, 1, untitled=True)
    for p, blocks in enumerate(pages, 1):
        starts = sorted(i for (page, i) in headings if page == p and i < 0)
        for i in starts:  # bookmarks not found in the text start at the top of their page
            sections.append(current)
            level, title = headings[(p, i)]
            current = Section(level, title, p, p)
        for i, b in enumerate(blocks):
            if (p, i) in headings:
                sections.append(current)
                level, title = headings[(p, i)]
                current = Section(level, title, p, p)
                continue
            paragraph = Paragraph(_markdown(b), p, b.kind, b.confidence)
            current.paragraphs = _carried_on(current.paragraphs, paragraph)
            current.page_end = p
    sections.append(current)
    # The untitled lead-in before the first heading is kept only when it has text.
    return [s for i, s in enumerate(sections) if s.paragraphs or i > 0]
