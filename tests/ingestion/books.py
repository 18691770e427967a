"""Book-like PDFs written with fpdf2: front matter, chapters of uneven length, appendices, an index, code.

Text comes from SciQ's textbook paragraphs, so every chapter reads like real course material.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fpdf import FPDF

from tests.factories import sciq_items

BODY_PT = 11
CODE_PT = 9  # code is set smaller than the body text, as books do


@dataclass(frozen=True)
class Block:
    """One block of a chapter: body text, code (monospaced, verbatim lines) or a table (rows of cells)."""

    text: str = ""
    code: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()


@dataclass
class Entry:
    """A top-level outline entry (chapter, preface, appendix, index...) with its own text and sections."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    sections: list[tuple[str, list[Block]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(b.text for b in [*self.blocks, *(b for _, bs in self.sections for b in bs)] if b.text)


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


class _Paragraphs:
    def __init__(self, offset: int) -> None:
        self._items = iter(sciq_items()[offset:])

    def take(self, n: int) -> list[Block]:
        return [Block(text=next(self._items)["support"]) for _ in range(n)]


def textbook(
    chapter_paragraphs: tuple[int, ...] = (1, 24, 2, 9, 1),
    *,
    preface_paragraphs: int = 1,
    appendices: int = 2,
    offset: int = 0,
) -> list[Entry]:
    """Contents, a preface, chapters of the given (uneven) lengths in paragraphs, appendices and an index."""
    text = _Paragraphs(offset)
    entries = [Entry("Contents", [Block(text="Preface iii Chapter 1 1 Chapter 2 3 Chapter 3 19 Index 40 41 42")])]
    if preface_paragraphs:
        entries.append(Entry("Preface", text.take(preface_paragraphs)))
    for c, n in enumerate(chapter_paragraphs, 1):
        if n >= 6:  # long chapters have sections, as real ones do
            per = n // 3
            sections = [(f"{c}.{s} Section {s} of chapter {c}", text.take(per)) for s in range(1, 4)]
            entries.append(Entry(f"Chapter {c}: Topic {c}", text.take(1), sections))
        else:
            entries.append(Entry(f"Chapter {c}: Topic {c}", text.take(n)))
    for a in range(appendices):
        entries.append(Entry(f"Appendix {'ABC'[a]}: Reference tables {a + 1}", text.take(1)))
    index_lines = [f"zygomorphic{i}, {i + 3}, {i + 17}" for i in range(40)]
    entries.append(Entry("Index", [Block(text=line) for line in index_lines]))
    return entries


def book_pdf(entries: list[Entry], *, outline: bool = True, title: str = "") -> bytes:
    """Each entry on a new page: 20 pt bold heading, 14 pt bold sections, 11 pt body, 9 pt Courier code. With a
    `title`, a title page (28 pt) comes first and holds every entry in the outline, as a book's one top entry."""
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=20)
    top = 0
    if title:
        pdf.add_page()
        if outline:
            pdf.start_section(latin1(title), level=0)
        pdf.set_font("Helvetica", "B", 28)
        pdf.multi_cell(0, 14, latin1(title))
        top = 1
    for entry in entries:
        pdf.add_page()
        if outline:
            pdf.start_section(latin1(entry.title), level=top)
        pdf.set_font("Helvetica", "B", 20)
        pdf.multi_cell(0, 10, latin1(entry.title))
        pdf.ln(4)
        _blocks(pdf, entry.blocks)
        for section, blocks in entry.sections:
            if outline:
                pdf.start_section(latin1(section), level=top + 1)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(0, 8, latin1(section))
            pdf.ln(2)
            _blocks(pdf, blocks)
    return bytes(pdf.output())


def _blocks(pdf: FPDF, blocks: list[Block]) -> None:
    for block in blocks:
        if block.text and "`" in block.text:  # `name` is set in Courier inside the sentence: inline code
            for i, piece in enumerate(latin1(block.text).split("`")):
                pdf.set_font("Courier" if i % 2 else "Helvetica", "", BODY_PT)
                pdf.write(6, piece)
            pdf.ln(9)
        elif block.text:
            pdf.set_font("Helvetica", "", BODY_PT)
            pdf.multi_cell(0, 6, latin1(block.text))
            pdf.ln(3)
        if block.code:
            pdf.set_font("Courier", "", CODE_PT)
            for line in block.code:
                pdf.cell(0, 4.5, latin1(line), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        if block.table:
            pdf.set_font("Helvetica", "", BODY_PT)
            with pdf.table() as table:
                for cells in block.table:
                    row = table.row()
                    for cell in cells:
                        row.cell(latin1(cell))
            pdf.ln(3)
