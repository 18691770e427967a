"""What a PDF is read into: blocks laid out on a page, pages as read, paragraphs and sections of a document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ingestion import pseudocode

BlockKind = Literal["text", "code", "table"]


@dataclass(frozen=True)
class PageText:
    number: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """Running text, or a code block / table already as Markdown (fenced code, pipe table), kept whole."""

    text: str
    page: int
    kind: BlockKind = "text"
    confidence: float | None = None  # recognised by OCR with this confidence (0-1); None: from the text layer
    emphasis: tuple[str, ...] = ()  # terms the author set in bold within it (key terms for quizzes)


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
    emphasis: tuple[str, ...] = ()  # see Paragraph


@dataclass(frozen=True)
class PageRead:
    """One page as read: its blocks in reading order, and whether it still needs OCR or was left out (why)."""

    blocks: list[Block]
    height: float
    scanned: bool = False
    skipped: str | None = None


def joined_confidence(*blocks: Block | Paragraph) -> float | None:
    """The OCR confidence of blocks joined into one: their mean weighted by length; None when none was recognised."""
    known = [(b.confidence, len(b.text)) for b in blocks if b.confidence is not None]
    if not known:
        return None
    return sum(c * n for c, n in known) / max(1, sum(n for _, n in known))
