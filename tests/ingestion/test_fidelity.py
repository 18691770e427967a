"""Code, tables and formulas survive parsing: verbatim in topic content (Markdown) and whole inside chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.chunking import chunk_topic
from ingestion.pdf import parse_pdf
from ingestion.structure import build_structure
from tests.ingestion.books import Block, Entry, book_pdf, textbook

LOOP = (
    "def traverse(items):",
    "    for item in items:",
    "        if item > 0:",
    "            print(item)",
    "",
    "    return len(items)",
)
SHELL = ("$ python traverse.py", "3", "1", "4")
INTRO = "Another way to write a traversal is with a for loop:"


def _course_with_code() -> list[Entry]:
    chapter = textbook((3,), preface_paragraphs=0, appendices=0)[1]
    chapter.blocks[1:1] = [
        Block(text=INTRO, code=LOOP),
        Block(text="Running it prints the positive items:", code=SHELL),
        Block(text="Call `traverse` with any list; `len` counts its items."),
    ]
    return [chapter]


def _topics(entries: list[Entry]):  # type: ignore[no-untyped-def]
    course = build_structure([parse_pdf(book_pdf(entries), "code.pdf")])
    return [t for m in course.modules for t in m.topics]


def test_a_monospaced_listing_is_fenced_code_with_its_lines_and_indentation_in_the_topic() -> None:
    content = "\n\n".join(t.content for t in _topics(_course_with_code()))

    listing = "```\n" + "\n".join(LOOP) + "\n```"
    assert f"{INTRO}\n\n{listing}" in content
    assert "```\n" + "\n".join(SHELL) + "\n```" in content


def test_inline_code_stays_inline_in_its_sentence() -> None:
    content = "\n\n".join(t.content for t in _topics(_course_with_code()))

    assert "Call `traverse` with any list; `len` counts its items." in content


def test_a_chunk_holds_a_short_listing_whole_with_the_sentence_that_introduces_it() -> None:
    topics = _topics(_course_with_code())
    chunks = [c for t in topics for c in chunk_topic(t, chunk_size=60, chunk_overlap=10)]

    listing = "\n".join(LOOP)
    holding = [c for c in chunks if "def traverse(items):" in c.text]
    assert len(holding) == 1, [c.text for c in chunks]
    assert listing in holding[0].text and INTRO in holding[0].text
    assert all(c.text.count("```") % 2 == 0 for c in chunks)  # no chunk opens a fence it does not close


def test_a_listing_longer_than_a_chunk_is_cut_between_lines_into_fenced_pieces() -> None:
    long_listing = tuple(f"    total = total + values[{i}]  # step {i}" for i in range(60))
    chapter = Entry("Chapter 1: Sums", [Block(text="The sum, written out in full:", code=long_listing)])
    chunks = [c for t in _topics([chapter]) for c in chunk_topic(t, chunk_size=120, chunk_overlap=10)]

    code_lines = [line for c in chunks for line in c.text.split("\n") if "total = total" in line]
    assert code_lines == list(long_listing)  # every line once, in order, indentation kept
    holding = [c for c in chunks if "total = total" in c.text]
    assert len(holding) > 1 and all(c.text.count("```") == 2 for c in holding)


def test_a_code_listing_set_smaller_than_the_body_is_not_dropped_as_small_print() -> None:
    # The listing is 9 pt against an 11 pt body (under the 0.8 small-print cut for 8 pt would be 8.8 pt).
    content = "\n\n".join(t.content for t in _topics(_course_with_code()))
    assert "print(item)" in content


def test_a_ruled_table_keeps_its_rows_as_a_markdown_table() -> None:
    rows = (("Planet", "Moons", "Day (hours)"), ("Earth", "1", "24"), ("Mars", "2", "25"), ("Jupiter", "95", "10"))
    chapter = Entry("Chapter 1: Planets", [Block(text="The planets compare as follows.", table=rows)])
    content = "\n\n".join(t.content for t in _topics([chapter]))

    assert "| Planet | Moons | Day (hours) |" in content
    for row in rows[1:]:
        assert "| " + " | ".join(row) + " |" in content


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.exists(), reason="needs a Unicode TrueType font to write the formula")
def test_a_formula_keeps_its_symbols() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(DEJAVU))
    pdf.set_font("DejaVu", "", 11)
    formula = "∑ᵢ aᵢ ≤ √(n · ∫₀¹ f(x) dx) for all α, β ∈ ℝ, and Δx → 0 implies x ≠ ∞"  # noqa: RUF001
    pdf.multi_cell(0, 6, "The bound reads " + formula + ", which the proof below establishes.")
    content = "\n\n".join(
        t.content for t in build_structure([parse_pdf(bytes(pdf.output()), "f.pdf")]).modules[0].topics
    )

    assert formula in content


ERICKSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "erickson_algorithms"


@pytest.mark.parametrize(
    ("filename", "sentence"),
    [
        # cut by a page break
        (
            "01-recursion.pdf",
            "the correctness of the multiplication algorithm does not depend on the precise data representation",
        ),
        # cut by a page break, with a footnote set between its two parts
        (
            "01-recursion.pdf",
            "one to prove that Partition correctly partitions the array, and the other to prove that QuickSort",
        ),
    ],
)
def test_a_paragraph_cut_by_a_page_break_is_one_paragraph_in_the_topic_and_its_chunk(
    filename: str, sentence: str
) -> None:
    course = build_structure([parse_pdf((ERICKSON / filename).read_bytes(), filename)])
    topic = next(t for m in course.modules for t in m.topics if sentence in " ".join(t.content.split()))
    assert any(sentence in " ".join(p.text.split()) for p in topic.paragraphs)
    assert any(sentence in " ".join(c.text.split()) for c in chunk_topic(topic))


def test_a_paragraph_that_starts_in_lower_case_after_a_finished_one_stays_a_paragraph_of_its_own() -> None:
    chapter = textbook((3,), preface_paragraphs=0, appendices=0)[1]
    chapter.blocks[1:1] = [
        Block(text="Nuclear power plants use the energy they produce to heat water."),
        Block(text="critical density, the density needed to just halt universal expansion."),
    ]
    paragraphs = [p.text for t in _topics([chapter]) for p in t.paragraphs]
    assert "critical density, the density needed to just halt universal expansion." in paragraphs


def test_footnotes_set_just_under_the_body_size_stay_out_of_the_running_text() -> None:
    """Erickson sets footnotes at ~81% of the body size (code too is set smaller, so size alone cannot drop them):
    they interrupted paragraphs and were quoted as answers ("4See http://algorithms.wtf ...")."""
    course = build_structure([parse_pdf((ERICKSON / "01-recursion.pdf").read_bytes(), "01-recursion.pdf")])
    content = " ".join(" ".join(t.content.split()) for m in course.modules for t in m.topics)
    for footnote in (
        "Goldstine and von Neumann actually described an non-recursive variant",  # footnote 5
        "Neumann argued (successfully!) that because the EDVAC",  # footnote 5, carried over to the next page
        "Lucas later claimed to have invented the puzzle in 1876",  # footnote 2
    ):
        assert footnote not in content
    assert "Mergesort is one of the earliest algorithms designed for general-purpose" in content
    assert "1. Divide the input array into two subarrays of roughly equal size." in content


def test_words_broken_at_a_line_end_are_whole_again_compounds_keep_their_hyphen() -> None:
    from fpdf import FPDF

    lines = (
        "Every recursive algo-",  # hyphenation: the document writes "algorithm" elsewhere
        "rithm needs a base case, and each algorithm stops when it reaches one. A level-order",
        "traversal visits a tree level by level; every level-",  # a compound the document writes whole
        "order traversal uses a queue. The Rivest-",  # a name after the break
        "Tarjan bound holds for any n-",  # a part of one letter
        "element array, and breadth-",  # a hyphen left for a word to come
        "and depth-first search visit every vertex of the graph once.",
    )
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    doc = parse_pdf(bytes(pdf.output()), "breaks.pdf")
    text = " ".join(p.text for s in doc.sections for p in s.paragraphs)

    assert "Every recursive algorithm needs a base case" in text
    assert "every level-order traversal uses a queue" in text
    assert "The Rivest-Tarjan bound holds for any n-element array, and breadth- and depth-first search" in text


def test_an_accent_set_as_a_glyph_of_its_own_sits_on_its_letter() -> None:
    """TeX draws an accent before the letter it sits on, and the PDF's text reads "G¨odel"; an apostrophe some
    typists set as an acute accent stays what it is."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "G\u00a8odel and Poincar\u00b4e", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, "The theorem of G\u00a8odel is older than the caf\u00b4e, and it\u00b4s well known. " * 3)
    doc = parse_pdf(bytes(pdf.output()), "accents.pdf")
    text = " ".join(p.text for s in doc.sections for p in s.paragraphs)

    assert [s.title for s in doc.sections if not s.untitled] == ["Gödel and Poincaré"]
    assert "The theorem of Gödel is older than the café, and it\u00b4s well known." in text

    intro = build_structure([parse_pdf((ERICKSON / "00-intro.pdf").read_bytes(), "00-intro.pdf")])
    content = " ".join(t.content for m in intro.modules for t in m.topics)
    assert "Khwārizmī" in content and "\u00af" not in content


def test_the_books_broken_words_read_whole_in_topics() -> None:
    course = build_structure([parse_pdf((ERICKSON / "03-dynprog.pdf").read_bytes(), "03-dynprog.pdf")])
    content = " ".join(" ".join(t.content.split()) for m in course.modules for t in m.topics)
    assert "minimum number of letter insertions, letter deletions, and letter substitutions" in content
    assert "inser- tions" not in content and "algo- rithm" not in content


def test_two_listings_set_side_by_side_are_two_whole_listings() -> None:
    """Erickson sets an algorithm and its subroutine side by side in one figure (Figure 1.6: MergeSort and Merge);
    read line by line across both, they came out interleaved, and Merge, set at 82% of the body, not as code."""
    course = build_structure([parse_pdf((ERICKSON / "01-recursion.pdf").read_bytes(), "01-recursion.pdf")])
    listings = [p.text for m in course.modules for t in m.topics for p in t.paragraphs if p.kind == "code"]

    merge = next(c for c in listings if "Merge(A[1.. n], m):" in c)
    assert merge.startswith("```\nMerge(A[1.. n], m):\n    i \u2190 1; j \u2190 m + 1\n    for k \u2190 1 to n\n")
    assert "MergeSort" not in merge
    sort = next(c for c in listings if "MergeSort(A[1.. n]):" in c)
    assert sort.startswith("```\nMergeSort(A[1.. n]):\n    if n > 1\n") and "B[k]" not in sort
    partition = next(c for c in listings if "Partition(A[1.. n], p):" in c)
    assert "QuickSort(A[1.. n]):" not in partition and "return \u2113 + 1" in partition
    # An exercise set at the listing's size under it is text, not a line of the listing.
    stooge = next(c for c in listings if "StoogeSort(A[0.. n \u22121]) :" in c)  # the book's minus sign
    assert stooge.rstrip("`\n").endswith("StoogeSort(A[0.. m \u22121])") and "Would StoogeSort" not in stooge


def test_a_figures_row_of_monospaced_letters_reads_as_one_row() -> None:
    """The letters of a figure's row are written as separate lines on one baseline: they read as the row, not as a
    staircase of one letter per line (the mergesort example of Figure 1.5)."""
    course = build_structure([parse_pdf((ERICKSON / "01-recursion.pdf").read_bytes(), "01-recursion.pdf")])
    listings = [p.text for m in course.modules for t in m.topics for p in t.paragraphs if p.kind == "code"]

    assert "```\nS O R T I N G E X A M P L\n```" in listings
    assert "```\nA E G I L M N O P R S T X\n```" in listings
    assert not [c for c in listings if sum(len(line.strip()) == 1 for line in c.split("\n")) > 3]


def test_math_symbols_of_a_tex_font_without_a_unicode_map_read_as_printed() -> None:
    """Erickson's math symbol font has no Unicode map: its codes came out as the ASCII characters at their places
    ("m bn/2c" for m ← ⌊n/2⌋, "hhRecurse!ii" for ⟨⟨Recurse!⟩⟩, "swap A[p] $ A[n]" for the swap ↔)."""
    course = build_structure([parse_pdf((ERICKSON / "01-recursion.pdf").read_bytes(), "01-recursion.pdf")])
    content = "\n".join(t.content for m in course.modules for t in m.topics)

    assert "m \u2190 \u230an/2\u230b" in content  # m ← ⌊n/2⌋
    assert "MergeSort(A[1.. m])    \u27e8\u27e8Recurse!\u27e9\u27e9" in content  # ⟨⟨Recurse!⟩⟩
    assert "MergeSort(A[m + 1.. n]) \u27e8\u27e8Recurse!\u27e9\u27e9" in content  # a gap, not an arrow
    assert "swap A[p] \u2194 A[n]" in content and "\u2113 \u2190 0" in content  # swap, and ell assigned 0
    assert "A[i .. m] \u222a A[j .. n]" in " ".join(content.split())  # cup in running text
    assert "hhRecurse" not in content and "bn/2c" not in content


def test_symbols_a_broken_unicode_map_misnames_read_as_their_glyphs_are_named() -> None:
    """Erickson's ToUnicode maps give math glyphs the characters at their TeX places: Theta came out as an arrow
    ("⇥(log n)"), pi as another, and "≤" as a private-use character the parser dropped ("If n 1, ...")."""
    files = ["01-recursion.pdf", "04-greedy.pdf"]
    course = build_structure([parse_pdf((ERICKSON / f).read_bytes(), f) for f in files])
    content = " ".join(" ".join(t.content.split()) for m in course.modules for t in m.topics)

    assert "the union of A and B in \u0398(log n) time" in content  # Θ
    assert "let \u03c0(i) denote" in content  # π
    assert content.count("\u2264") >= 40 and "\uf8ff" not in content  # ≤
    assert "\u21e5(" not in content and "\u21e1" not in content  # no ⇥( or ⇡ left
    assert "m \u2190 \u230an/2\u230b" in content  # what the symbol tables already read stays as it was
    # TeX spaces a relation or an operator by a gap, not a space character: the gap is a space.
    assert "T(n) \u2264 T(n/3) + T(2n/3" in content and "with an m \u00d7 n grid of boxes" in content
    # The extension font's sized operators and delimiters by their base names (summationtext is a sum, not "X"),
    # and a formula's symbol that carries a cut sentence on stays in its paragraph.
    greedy = parse_pdf((ERICKSON / "04-greedy.pdf").read_bytes(), "04-greedy.pdf")
    paragraphs = [p.text for s in greedy.sections for p in s.paragraphs]
    assert sum(p.count("\u2211") for p in paragraphs) >= 10 and "X" not in paragraphs
    intro = parse_pdf((ERICKSON / "00-intro.pdf").read_bytes(), "00-intro.pdf")
    intro_text = " ".join(p.text for s in intro.sections for p in s.paragraphs)
    assert "defined to be P/ \u221a r(r + 1), where P is the state\u2019s population" in intro_text


def test_stacks_side_by_side_read_one_after_the_other_but_a_list_of_terms_row_by_row() -> None:
    from ingestion.pdf_layout import reading_order
    from ingestion.pdf_types import Block as PdfBlock

    def block(text: str, x0: float, y0: float, lines: int = 1) -> PdfBlock:
        laid = tuple((x0, y0 + 12 * i, 9.0, f"{text} {i}") for i in range(lines))
        return PdfBlock(1, text, 9.0, False, x0, y0, x0 + 150, y0 + 12 * lines, lines=laid)

    # A page of one column: its paragraphs hold most of its text.
    paragraph = PdfBlock(1, "A paragraph across the page. " * 40, 10.0, False, 72, 60, 540, 90)
    after = PdfBlock(1, "The next paragraph across the page.", 10.0, False, 72, 300, 540, 330)
    listings = [block("Left", 80, 120, 3), block("Right", 300, 110, 4), block("Left end", 80, 162, 2)]
    order = [b.text for b in reading_order([paragraph, *listings, after], 612)]
    assert order == [paragraph.text, "Left", "Left end", "Right", after.text]

    terms = [block(t, 80, y) for t, y in (("Osmosis", 120), ("Diffusion", 150), ("Catalyst", 180))]
    meanings = [block(f"What {t.text} means", 300, t.y0, 2) for t in terms]
    order = [b.text for b in reading_order([paragraph, *terms, *meanings, after], 612)]
    assert order[1:3] == ["Osmosis", "What Osmosis means"]
