"""PDF to text with page numbers: reading order, headings (outline or font size), clean paragraphs.

Headers, footers and page numbers are removed; hyphenated line breaks are joined; pages without a text
layer that look like printed text are reported as scanned (for `ingestion.ocr` to recognise), pictures and blank
pages as skipped with their reason, never silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pymupdf

from ingestion.errors import IngestionError
from ingestion.pdf_glyphs import FontMaps
from ingestion.pdf_layout import (
    pseudocode_blocks,
    reading_order,
    snap_recognised_sizes,
    strip_margins,
    tables,
    without_footnotes,
)
from ingestion.pdf_sections import font_headings, mended_words, outline_headings, to_sections
from ingestion.pdf_spans import GARBAGE, clean, page_blocks
from ingestion.pdf_types import (
    Block,
    BlockKind,
    PageRead,
    PageText,
    Paragraph,
    ParsedDocument,
    Section,
    joined_confidence,
)

# What other modules read from here (the document's types and text cleaning live in the pdf_* modules).
__all__ = [
    "GARBAGE",
    "Block",
    "BlockKind",
    "PageRead",
    "PageText",
    "Paragraph",
    "ParsedDocument",
    "Section",
    "clean",
    "inspect_pdf",
    "parse_pdf",
    "read_pages",
]

# A page with fewer characters than this (a scanner's stamp, a page number) and a picture over much of it is a scan.
MIN_TEXT_CHARS = 50
SCAN_COVER = 0.3  # share of the page under pictures for a page with a few characters to count as a scan


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


def read_pages(
    data: bytes, filename: str, first: int, last: int, ocr: Mapping[int, Sequence[Block]] | None = None
) -> list[PageRead]:
    """Pages `first` to `last` (0-based, `last` excluded) as read. The heavy part of parsing, page by page: any
    range of pages can be read apart from the others (`parse_pdf`'s `read`)."""
    ocr = ocr or {}
    doc = _open(data, filename)
    fonts = FontMaps(doc)
    out = []
    try:
        for index in range(first, last):
            scanned, skipped = False, None
            try:
                page = doc.load_page(index)
                blocks = page_blocks(page, index + 1, fonts)
                if index + 1 in ocr:
                    blocks = list(ocr[index + 1])
                elif _needs_ocr(page, blocks):
                    skipped = _not_text_safely(page)
                    scanned = skipped is None
            except Exception:
                raise IngestionError("corrupt_pdf", f"page {index + 1} cannot be read; is the file complete?") from None
            out.append(PageRead(reading_order(blocks, page.rect.width), page.rect.height, scanned, skipped))
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
    raw = snap_recognised_sizes(raw)
    typed = Counter[float]()
    for blocks in raw:
        for b in blocks:
            typed[b.size] += len(b.text) if b.kind == "text" and not b.cells else 0
    if typed:  # the body's size, as below, to know pseudocode by its smaller print before tables are made
        body_guess = typed.most_common(1)[0][0]
        raw = [pseudocode_blocks(blocks, body_guess) for blocks in raw]
    raw = [tables(blocks) for blocks in raw]
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
    pages = strip_margins(raw, heights, body)
    # Small print (footnotes, figure labels) stays out of the running text; footnotes set just under the body's
    # size are known by their place and their mark.
    pages = without_footnotes(pages, body)
    # Code is often set smaller than the body, and is kept whatever its size.
    pages = [[b for b in blocks if b.size >= body * 0.8 or b.kind != "text"] for blocks in pages]
    page_texts = [PageText(i + 1, "\n\n".join(b.text for b in blocks)) for i, blocks in enumerate(pages)]
    usable_toc = [(int(lvl), clean(str(title)), int(pg)) for lvl, title, pg in toc if clean(str(title)) and pg >= 1]
    headings = outline_headings(pages, usable_toc) if usable_toc else font_headings(pages, body)
    return ParsedDocument(
        filename=filename,
        page_count=len(pages),
        pages=page_texts,
        sections=mended_words(to_sections(pages, headings, filename)),
        scanned_pages=scanned,
        has_outline=bool(usable_toc),
        recognised_pages=_recognised(pages, set(ocr or ())),
        skipped_pages=skipped,
    )


def _recognised(pages: list[list[Block]], numbers: set[int]) -> dict[int, float]:
    """Each page recognised by OCR that kept text, with the mean confidence of what it kept."""
    out = {}
    for number in sorted(numbers):
        confidence = joined_confidence(*pages[number - 1]) if number <= len(pages) else None
        if confidence is not None:
            out[number] = round(confidence, 3)
    return out
