"""Weeks follow the author's chapters: every chapter a week, front matter by rule, back matter left out."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ingestion.pdf import parse_pdf
from ingestion.structure import FRONT_MATTER_WEEK_WORDS, CourseStructure, build_structure
from tests.factories import ingest_course
from tests.ingestion.books import Block, Entry, book_pdf, latin1, textbook
from tutor.settings import Settings

CHAPTERS = [f"Chapter {c}: Topic {c}" for c in range(1, 6)]
APPENDICES = ["Appendix A: Reference tables 1", "Appendix B: Reference tables 2"]
ERICKSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "erickson_algorithms"


def _structure(entries: list[Entry], *, outline: bool = True, max_weeks: int = 52, title: str = "") -> CourseStructure:
    pdf = book_pdf(entries, outline=outline, title=title)
    return build_structure([parse_pdf(pdf, "book.pdf")], max_weeks=max_weeks)


@pytest.mark.parametrize("outline", [True, False], ids=["outline", "font-headings"])
def test_every_chapter_is_its_own_week_however_short_and_appendices_follow_them(outline: bool) -> None:
    book = textbook((1, 24, 2, 9, 1), preface_paragraphs=0)  # chapters of 1 to 24 paragraphs
    course = _structure(book, outline=outline)

    assert [m.title for m in course.modules] == CHAPTERS + APPENDICES
    assert [m.kind for m in course.modules] == ["chapter"] * 5 + ["appendix"] * 2
    assert [m.week for m in course.modules] == list(range(1, 8))
    # Each week holds exactly its own chapter's text.
    for module, entry in zip(course.modules, book[1:-1], strict=True):
        assert module.text.split() == latin1(entry.text).split()
    assert not course.merged


@pytest.mark.parametrize("outline", [True, False], ids=["outline", "font-headings"])
def test_a_short_preface_opens_week_one_as_its_own_topic(outline: bool) -> None:
    book = textbook((2, 3, 2), preface_paragraphs=1)
    course = _structure(book, outline=outline)

    first = course.modules[0]
    assert first.title == "Chapter 1: Topic 1"
    assert first.topics[0].title == "Preface"
    assert first.topics[0].content.split() == latin1(book[1].text).split()
    assert first.topics[1].title == "Chapter 1: Topic 1"


def test_a_long_preface_is_one_week_titled_as_in_the_outline() -> None:
    book = textbook((2, 3, 2), preface_paragraphs=14)
    assert len(book[1].text.split()) >= FRONT_MATTER_WEEK_WORDS
    course = _structure(book)

    assert [m.title for m in course.modules] == ["Preface", *CHAPTERS[:3], *APPENDICES]
    assert course.modules[0].kind == "front"
    assert "Preface" not in [t.title for m in course.modules[1:] for t in m.topics]


@pytest.mark.parametrize("outline", [True, False], ids=["outline", "font-headings"])
def test_index_and_contents_never_become_weeks_or_topics(outline: bool) -> None:
    course = _structure(textbook((2, 3, 2)), outline=outline)

    everything = " ".join(m.title + " " + " ".join(t.title + " " + t.content for t in m.topics) for m in course.modules)
    assert "zygomorphic" not in everything  # the index's entries
    assert "Contents" not in everything and "Index" not in [m.title for m in course.modules]
    assert any("Index" in note for note in course.notes)


def test_parts_are_not_weeks_their_chapters_are() -> None:
    book = textbook((2, 2, 2, 2), appendices=0, preface_paragraphs=0)
    chapters = [e for e in book if e.title.startswith("Chapter")]
    entries = [Entry("Part I: Foundations"), *chapters[:2], Entry("Part II: Applications"), *chapters[2:]]
    pdf = _nested_pdf(entries)

    course = build_structure([parse_pdf(pdf, "parts.pdf")])

    assert [m.title for m in course.modules] == CHAPTERS[:4]


def _nested_pdf(entries: list[Entry]) -> bytes:
    """Parts at outline level 0 holding chapters at level 1."""
    from fpdf import FPDF

    pdf = FPDF()
    for entry in entries:
        pdf.add_page()
        part = entry.title.startswith("Part")
        pdf.start_section(entry.title, level=0 if part else 1)
        pdf.set_font("Helvetica", "B", 24 if part else 20)
        pdf.multi_cell(0, 10, entry.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for block in entry.blocks:
            pdf.multi_cell(0, 6, latin1(block.text), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_a_course_over_the_week_limit_merges_the_shortest_neighbours_and_says_so() -> None:
    course = _structure(textbook((1, 24, 2, 9, 1)), max_weeks=5)

    assert len(course.modules) == 5
    assert len(course.merged) == 2
    assert any("at most 5 weeks" in note and "TUTOR_MAX_WEEKS" in note for note in course.notes)
    # The long chapter is never the one merged: its neighbours are longer than the short pairs.
    assert "Chapter 2: Topic 2" in [m.title for m in course.modules]


def test_a_chapter_pdf_is_one_week_with_its_sections_as_topics() -> None:
    chapter = textbook((12,), preface_paragraphs=0, appendices=0)[1:2]  # one chapter with three sections
    course = _structure([*chapter, Entry("Index", [Block(text="cell, 3, 5")])])

    [week] = course.modules
    assert week.title == "Chapter 1: Topic 1"
    assert [t.title for t in week.topics] == ["Chapter 1: Topic 1", *(s for s, _ in chapter[0].sections)]


@pytest.mark.parametrize("outline", [True, False], ids=["outline", "font-headings"])
def test_a_book_title_over_its_chapters_is_not_a_week(outline: bool) -> None:
    """A book's one top entry is its title when what stands below it are chapters: named so, however short, or
    chapter-sized whatever their names."""
    named = textbook((2, 3, 2), preface_paragraphs=0, appendices=0)
    assert [m.title for m in _structure(named, outline=outline, title="Science").modules] == CHAPTERS[:3]

    long = textbook((36, 40, 45), preface_paragraphs=0, appendices=0, offset=20)  # 3,600-4,500 words each
    for entry, name in zip(long[1:4], ("Cells", "Energy", "Forces"), strict=True):
        entry.title = name
    course = _structure(long, outline=outline, title="A Textbook of Science")
    assert [m.title for m in course.modules] == ["Cells", "Energy", "Forces"]
    topics = list(dict.fromkeys(t.title.split(" (part ")[0] for t in course.modules[1].topics))
    assert topics[0] == "Energy"
    assert [t.endswith(f"Section {k} of chapter 2") for k, t in enumerate(topics[1:], 1)] == [True] * 3


def test_the_books_chapter_pdfs_uploaded_together_are_a_week_each() -> None:
    """Erickson's Algorithms comes as one PDF a chapter (no outline): each chapter is one week, its sections the
    topics; the front matter is the Preface week, without a week for the author's name under the book's title."""
    files = ["00a-frontmatter.pdf", "01-recursion.pdf", "04-greedy.pdf", "06-dfs.pdf"]
    course = build_structure([parse_pdf((ERICKSON / f).read_bytes(), f) for f in files])

    assert [m.title for m in course.modules] == ["Preface", "Recursion", "Greedy Algorithms", "Depth-First Search"]
    assert course.modules[0].kind == "front"
    topics = {t.title.split(" (part ")[0] for t in course.modules[1].topics}
    for section in ("Reductions", "Tower of Hanoi", "Mergesort", "Quicksort", "Linear-Time Selection"):
        assert section in topics
    assert all("Jeff Erickson" not in t.title for m in course.modules for t in m.topics)
    assert not [t.title for m in course.modules for t in m.topics if t.title.startswith("=")]  # a formula set large


async def test_a_capped_course_says_so_in_the_job_result(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    capped = settings.model_copy(update={"max_weeks": 3})
    pdf = book_pdf(textbook((1, 3, 1, 2), preface_paragraphs=0, appendices=0))

    course_id = await ingest_course(capped, sessions, [("capped.pdf", pdf)], teacher="teacher-cap")

    async with db.connect() as conn:
        weeks = await conn.scalar(text(f"SELECT count(*) FROM modules WHERE course_id = {course_id}"))
        result, message = (
            await conn.execute(
                text(f"SELECT result, message FROM job_queue WHERE (result->>'course_id')::int = {course_id}")
            )
        ).one()
    assert weeks == 3
    assert any("at most 3 weeks" in n for n in result["notes"])
    assert "at most 3 weeks" in message
