"""Structure fidelity on real PDFs: chapters and sections found, against the book's own table of contents.

    python benchmarks/structure.py

The Erickson chapter PDFs (no outline) are joined into one book, as a teacher's upload of a textbook would be.
The truth is the book's printed table of contents (in its front matter): chapter titles and numbered sections.
Measured twice: from font-based headings (the PDF as it is) and from an outline (the same book with the TOC
written as bookmarks, chapters at level 1 and sections at level 2). Prints JSON.
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import pymupdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingestion.pdf import parse_pdf
from ingestion.structure import build_structure

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "erickson_algorithms"
CHAPTERS = {  # file -> (chapter number, title as printed)
    "00-intro.pdf": ("0", "Introduction"),
    "01-recursion.pdf": ("1", "Recursion"),
    "03-dynprog.pdf": ("3", "Dynamic Programming"),
    "04-greedy.pdf": ("4", "Greedy Algorithms"),
    "06-dfs.pdf": ("6", "Depth-First Search"),
}
TOC_LINE = re.compile(r"^(\d+)\.(\d+)\s+(.+?)\s*(?:\.\s)*\.?\s*\n?(\d+)\s*$", re.M)


def norm(title: str) -> str:
    # Letters only, accents off: the printed contents read "M¯atr¯avr.tta" where the parser reads "Mātrāvr.tta".
    return re.sub(r"[^a-z]+", "", unicodedata.normalize("NFKD", title.lower().replace("ﬀ", "ff")))


def printed_sections() -> dict[str, list[str]]:
    """Each chapter's numbered sections, from the table of contents in the front matter."""
    with pymupdf.open(DATA / "00a-frontmatter.pdf") as doc:
        text = "\n".join(page.get_text() for page in doc)
    found: dict[str, list[str]] = {}
    for chapter, _, title, _ in TOC_LINE.findall(text):
        found.setdefault(chapter, []).append(title.strip("™ "))
    return found


def book(with_outline: bool, sections: dict[str, list[str]]) -> bytes:
    merged = pymupdf.open()
    toc: list[list[object]] = []
    for name, (number, title) in CHAPTERS.items():
        with pymupdf.open(DATA / name) as doc:
            start = merged.page_count + 1
            merged.insert_pdf(doc)
            toc.append([1, title, start])
            # Bookmarks point at the page where the section's heading is printed.
            for section in sections.get(number, []):
                page = next(
                    (i for i in range(doc.page_count) if norm(section)[:20] in norm(doc[i].get_text())),
                    0,
                )
                toc.append([2, section, start + page])
    if with_outline:
        merged.set_toc(toc)
    return bytes(merged.tobytes())


def measure(with_outline: bool, sections: dict[str, list[str]]) -> dict[str, object]:
    data = book(with_outline, sections)
    started = time.perf_counter()
    course = build_structure([parse_pdf(data, "algorithms.pdf")])
    seconds = time.perf_counter() - started
    weeks = [norm(m.title) for m in course.modules]
    topics = {norm(t.title.split(" (part ")[0]) for m in course.modules for t in m.topics}
    expected_sections = [norm(s) for number, _ in CHAPTERS.values() for s in sections.get(number, [])]
    chapters_found = sum(1 for _, title in CHAPTERS.values() if norm(title) in weeks)
    sections_found = sum(1 for s in expected_sections if s in topics)
    known = {norm(t) for _, t in CHAPTERS.values()} | set(expected_sections) | {"exercises"}
    return {
        "weeks": len(course.modules),
        "chapters_expected": len(CHAPTERS),
        "chapters_found_as_weeks": chapters_found,
        "chapter_recall": round(chapters_found / len(CHAPTERS), 3),
        "extra_weeks": len(weeks) - chapters_found,
        "sections_expected": len(expected_sections),
        "sections_found_as_topics": sections_found,
        "section_recall": round(sections_found / len(expected_sections), 3),
        "topics_not_in_toc": sorted(t for t in topics if t not in known)[:15],
        "parse_and_structure_seconds": round(seconds, 2),
    }


def measure_separate(sections: dict[str, list[str]]) -> dict[str, object]:
    """The chapter PDFs as they come (one file a chapter, no outline) uploaded together: a week per chapter, its
    sections the topics."""
    docs = [parse_pdf((DATA / name).read_bytes(), name) for name in CHAPTERS]
    course = build_structure(docs)
    weeks = [norm(m.title) for m in course.modules]
    expected = [norm(title) for _, title in CHAPTERS.values()]
    in_chapter = {
        norm(title): {
            norm(t.title.split(" (part ")[0]) for m in course.modules if norm(m.title) == norm(title) for t in m.topics
        }
        for _, title in CHAPTERS.values()
    }
    placed = sum(
        norm(s) in in_chapter[norm(title)] for number, title in CHAPTERS.values() for s in sections.get(number, [])
    )
    return {
        "weeks": len(weeks),
        "weeks_expected": len(expected),
        "chapters_found_as_weeks": sum(1 for t in expected if t in weeks),
        "sections_found_as_topics_of_their_chapter": placed,
        "sections_expected": sum(len(sections.get(number, [])) for number, _ in CHAPTERS.values()),
    }


def measure_generated() -> dict[str, object]:
    """A textbook like the one in issue 15: a preface, 19 chapters of very uneven length, 2 appendices, an index."""
    from tests.ingestion.books import book_pdf, textbook

    lengths = (1, 12, 2, 30, 1, 6, 3, 1, 24, 2, 1, 9, 1, 18, 2, 1, 6, 1, 3)
    entries = textbook(lengths, preface_paragraphs=3, appendices=2)
    course = build_structure([parse_pdf(book_pdf(entries), "textbook.pdf")])
    expected = [e.title for e in entries if e.title.startswith(("Chapter", "Appendix"))]
    weeks = [m.title for m in course.modules]
    return {
        "weeks": len(weeks),
        "weeks_expected": len(expected),
        "chapter_recall": round(sum(1 for t in expected if t in weeks) / len(expected), 3),
        "appendices_as_weeks": sum(1 for m in course.modules if m.kind == "appendix"),
        "index_or_contents_weeks": sum(1 for t in weeks if t in ("Index", "Contents")),
        "preface": next(
            (f"topic of week {m.week}" for m in course.modules for t in m.topics if t.title == "Preface"), "?"
        ),
    }


def monospaced_reach() -> dict[str, object]:
    """Of the characters the Erickson PDFs set in a monospaced font, the share found in the chunks."""
    from ingestion.chunking import chunk_topic
    from ingestion.pdf_spans import _mono

    total = found = spans = 0
    for name in CHAPTERS:
        data = (DATA / name).read_bytes()
        course = build_structure([parse_pdf(data, name)])
        chunks = " ".join(c.text for m in course.modules for t in m.topics for c in chunk_topic(t))
        flat = re.sub(r"\s+", "", chunks)
        with pymupdf.open(stream=data) as doc:
            for page in doc:
                for block in page.get_text("dict")["blocks"]:
                    for line in block.get("lines", []):
                        for span in line["spans"]:
                            text = re.sub(r"\s+", "", span["text"])
                            if _mono(span) and text:
                                spans += 1
                                total += len(text)
                                found += len(text) if text in flat else 0
    return {"monospaced_spans": spans, "monospaced_chars": total, "share_in_chunks": round(found / max(total, 1), 3)}


def main() -> None:
    sections = printed_sections()
    print(
        json.dumps(
            {
                "book": f"Erickson, Algorithms: {len(CHAPTERS)} chapter PDFs joined, truth = printed contents",
                "font_headings": measure(False, sections),
                "outline": measure(True, sections),
                "chapter_pdfs_uploaded_together": measure_separate(sections),
                "generated_textbook_with_outline": measure_generated(),
                "erickson_monospaced_text": monospaced_reach(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
