"""Offline quizzes a teacher would keep: one blank over a key term, distractors of its kind, review marks."""

from __future__ import annotations

import random
import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ingestion.keyterms import STOPWORDS
from ingestion.pdf import parse_pdf
from ingestion.quizgen import (
    BLANK,
    GENERIC,
    KeyTerm,
    QuestionDraft,
    Sentence,
    distractors,
    generate_module_quiz,
    glossary,
    quiz_size,
)
from ingestion.structure import ModuleDraft, build_structure
from tests.factories import course_pdf, ingest_course, sciq_chapters
from tests.ingestion.books import Block as BookBlock
from tests.ingestion.books import Entry, book_pdf
from tutor.settings import Settings

ERICKSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "erickson_algorithms"


def _quizzes(pdf: bytes) -> tuple[list[ModuleDraft], list[QuestionDraft]]:
    modules = build_structure([parse_pdf(pdf, "science.pdf")]).modules
    terms, aliases = glossary(modules)
    return modules, [q for m in modules for q in generate_module_quiz(m, terms, aliases, seed=m.week)]


def _quoted(question: QuestionDraft) -> str:
    match = re.match(r"“(.*)” \((.*), p\. (\d+)\)$", question.explanation)
    assert match, question.explanation
    return match.group(1)


def test_every_question_has_one_blank_over_a_key_term_its_quoted_source_sentence_holds() -> None:
    _, questions = _quizzes(course_pdf(sciq_chapters(4, 3, 3)))

    assert len(questions) >= 12
    for q in questions:
        source = _quoted(q)
        key = q.options[q.correct_answer]
        if q.question_text.startswith("Fill in the blank: "):
            assert q.question_text.count(BLANK) == 1
            assert q.question_text.removeprefix("Fill in the blank: ").replace(BLANK, key) == source
        else:
            term = q.question_text.removeprefix("What is meant by ").removesuffix("?")
            assert term.lower() in source.lower() and key.lower().rstrip(".") in source.lower()


def test_options_are_four_distinct_terms_never_a_common_word_or_a_piece_of_another() -> None:
    _, questions = _quizzes(course_pdf(sciq_chapters(4, 3, 3)))

    for q in questions:
        options = [o.lower() for o in q.options.values()]
        assert len(set(options)) == 4, q.options
        assert not [o for o in options if o in STOPWORDS or o in GENERIC], q.options
        assert not [(a, b) for a in options for b in options if a != b and a in b], q.options


def test_terms_the_text_defines_get_definition_questions_answered_by_their_definition() -> None:
    definitions = [
        "Photosynthesis is the process by which plants turn light energy into chemical energy.",
        "Osmosis is the movement of water across a membrane from low to high solute concentration.",
        "A catalyst is a substance that speeds up a reaction without being used up by it.",
        "An isotope is an atom of an element with a different number of neutrons in its nucleus.",
        "Erosion is the wearing away of rock and soil by wind, water and ice over long periods.",
    ]
    chapter = Entry("Chapter 1: Key ideas", [BookBlock(text=" ".join(definitions))])
    _, questions = _quizzes(book_pdf([chapter]))

    meant = {q.question_text: q.options[q.correct_answer] for q in questions if q.question_text.startswith("What is")}
    assert meant, [q.question_text for q in questions]
    for question, answer in meant.items():
        term = question.removeprefix("What is meant by ").removesuffix("?")
        sentence = next(d for d in definitions if d.startswith((term, f"A {term}", f"An {term}")))
        assert answer.lower() in sentence.lower()


def test_a_synonym_the_text_names_is_never_a_distractor() -> None:
    s = Sentence("The cytoplasm, also called cytosol, fills the cell.", 1, "bio.pdf", "Cells", 1)
    pool = [KeyTerm(t, "defined", s) for t in ("cytosol", "ribosome", "nucleus", "vacuole", "membrane", "cytoplasmic")]
    aliases = {frozenset(("cytoplasm", "cytosol"))}

    wrong, confident = distractors("cytoplasm", f"The {BLANK} fills the cell.", pool, aliases, random.Random(1))

    assert len(wrong) == 3 and set(wrong) <= {"membrane", "nucleus", "ribosome", "vacuole"}
    assert "cytosol" not in wrong and "cytoplasmic" not in wrong and confident


async def test_low_confidence_questions_are_stored_marked_for_review_not_dropped(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    pdf = course_pdf(sciq_chapters(3, 2, 2, offset=200))
    _, questions = _quizzes(pdf)
    flagged = sum(q.needs_review for q in questions)
    assert 0 < flagged < len(questions)

    course_id = await ingest_course(settings, sessions, [("science.pdf", pdf)], teacher="teacher-review")

    stored = await _rows(
        db,
        "SELECT count(*), count(*) FILTER (WHERE q.needs_review) FROM quiz_questions q "
        f"JOIN quizzes z ON z.quiz_id = q.quiz_id WHERE z.course_id = {course_id}",
    )
    assert stored == [(len(questions), flagged)]


async def _rows(db: AsyncEngine, sql: str) -> list[tuple[object, ...]]:
    async with db.connect() as conn:
        return [tuple(row) for row in (await conn.execute(text(sql))).all()]


LEAF = [
    "Inside a leaf, each **chloroplast** captures the energy of sunlight and stores it in sugar for the whole plant.",
    "Water rises from the roots through the **xylem**, a set of hollow tubes, while sugar moves down through the"
    " **phloem** to the parts of the plant that need it.",
    "**Example.** A tall tree lifts hundreds of litres of water every day, far more than a small plant could.",
    "Tiny pores called stomata open in daylight; the **transpiration** of water through them pulls more water up"
    " from the roots, and __very__ dry air makes it **faster**.",
    "A waxy **cuticle** covers the upper surface of the leaf and keeps it from drying out on hot afternoons.",
    "Below it, the **mesophyll** holds most of the chloroplasts, packed in layers where the light is strongest.",
]


def _marked_pdf(chapter: str, paragraphs: list[str]) -> bytes:
    """A chapter whose paragraphs set words in bold (**term**) and italics (__word__), as fpdf2's Markdown does."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.start_section(chapter, level=0)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, chapter, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph, markdown=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())


def test_terms_the_author_sets_in_bold_are_key_terms_asked_about_without_review() -> None:
    modules, questions = _quizzes(_marked_pdf("Chapter 1: Leaves", LEAF))

    emphasised = {term for topic in modules[0].topics for p in topic.paragraphs for term in p.emphasis}
    # Bold run-in labels ("Example.") and a lone bold comparative are not terms; italics are stress, not terms.
    assert emphasised == {"chloroplast", "xylem", "phloem", "transpiration", "cuticle", "mesophyll"}
    asked = {q.options[q.correct_answer].lower(): q for q in questions}
    on_bold = [q for key, q in asked.items() if key in emphasised]
    assert len(on_bold) >= 3, [q.question_text for q in questions]
    for q in on_bold:
        assert not q.needs_review, q
        assert all(o.lower() in emphasised for o in q.options.values()), q.options


STRINGS = [
    "The **edit distance** between two words counts the insertions, deletions and substitutions that turn one word"
    " into the other.",
    "When only substitutions are allowed, the count is the **Hamming distance**, which is defined for words of equal"
    " length only.",
    "Many spelling checkers rank their suggestions by edit distance, and some by the **Levenshtein distance** of a"
    " weighted variant.",
    "A **longest common subsequence** keeps the letters two words share in order, and it bounds the edit distance.",
    "The **suffix tree** of a word holds all of its endings and finds a pattern in time linear in its length.",
    "A **finite automaton** reads a word one letter at a time and accepts it when it stops in a final state.",
]


def test_options_are_written_as_the_text_writes_them_names_keep_their_capitals() -> None:
    _, questions = _quizzes(_marked_pdf("Chapter 1: Strings", STRINGS))

    options = {o for q in questions for o in q.options.values()}
    lower_keys = [q for q in questions if q.options[q.correct_answer][:1].islower()]
    assert lower_keys, [q.question_text for q in questions]
    # Beside a key in lower case, a name is still a name, and a common term is not capitalised.
    for q in lower_keys:
        for option in q.options.values():
            assert option in {"Hamming distance", "Levenshtein distance"} or option[:1].islower(), q.options
    assert options & {"Hamming distance", "Levenshtein distance"}
    assert not options & {"hamming distance", "levenshtein distance"}, options


def test_names_go_with_names_and_words_with_words() -> None:
    s = Sentence("Sorting by comparisons needs n log n steps.", 1, "algo.pdf", "Sorting", 1)
    pool = [
        KeyTerm(t, "emphasised", s)
        for t in ("mergesort", "quicksort", "heapsort", "Huffman", "Dijkstra", "Kruskal", "bubblesort")
    ]

    words, _ = distractors("insertion", f"Sorting a short list by {BLANK} is fast.", pool, set(), random.Random(3))
    names, _ = distractors("Prim", f"The algorithm of {BLANK} grows one tree.", pool, set(), random.Random(3))
    opening, _ = distractors("Insertion", f"{BLANK} sort is fast on short lists.", pool, set(), random.Random(3))

    assert all(w[:1].islower() for w in words), words
    assert set(names) == {"Huffman", "Dijkstra", "Kruskal"}
    # Capitalised only by its place at the start of the sentence: the options are words, capitalised alike.
    assert all(w[:1].isupper() and w.lower() in {"mergesort", "quicksort", "heapsort", "bubblesort"} for w in opening)


def test_only_what_reads_as_a_definition_is_offered_as_one() -> None:
    sentences = [
        "Recall that a palindrome is a string that is equal to its reversal.",
        "A vertex v in a connected graph is called a cut vertex if removing it disconnects the graph.",
        "Edges satisfying this condition are called back edges.",
        "Computers and Intractability: A Guide to the Theory of NP-Completeness.",
        "A catalyst is a substance that speeds up a reaction without being used up by it.",
        "An isotope is an atom of an element with a different number of neutrons in its nucleus.",
    ]
    chapter = Entry("Chapter 1: Terms", [BookBlock(text=" ".join(sentences))])
    modules = build_structure([parse_pdf(book_pdf([chapter]), "terms.pdf")]).modules

    definitions = {k.term: k.definition for k in glossary(modules)[0]}

    assert definitions["palindrome"] == "string that is equal to its reversal"
    assert definitions["cut vertex"] == "" and definitions["back edges"] == ""
    assert definitions["catalyst"].startswith("substance that speeds up a reaction")
    assert "A Guide to the Theory of NP-Completeness." not in definitions.values()


async def test_a_chapter_long_week_gets_a_longer_quiz(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncEngine
) -> None:
    """A chapter PDF is one week: its quiz grows with it (five questions for a short week, up to ten)."""
    pdf = (ERICKSON / "04-greedy.pdf").read_bytes()  # one chapter, about 10,000 words
    [week] = build_structure([parse_pdf(pdf, "04-greedy.pdf")]).modules
    assert quiz_size(week) == 6

    course_id = await ingest_course(settings, sessions, [("04-greedy.pdf", pdf)], teacher="teacher-long-week")

    counts = await _rows(
        db,
        "SELECT m.week, count(q.*) FROM modules m JOIN quizzes z ON z.module_id = m.id "
        f"JOIN quiz_questions q ON q.quiz_id = z.quiz_id WHERE m.course_id = {course_id} GROUP BY m.week",
    )
    assert counts == [(1, 6)]
    short = build_structure([parse_pdf(course_pdf(sciq_chapters(2, 2, 2, offset=300)), "science.pdf")]).modules
    assert {quiz_size(m) for m in short} == {5}


def test_labels_are_not_terms_and_a_sentence_that_leans_on_the_one_before_is_marked_for_review() -> None:
    """Erickson opens proofs with "Proof:" and a warning with "Caveat lector:": labels, not terms to ask about.
    "Edges satisfying this condition are called back edges." has more than one answer out of its paragraph."""
    files = ["01-recursion.pdf", "04-greedy.pdf", "06-dfs.pdf"]
    modules = build_structure([parse_pdf((ERICKSON / f).read_bytes(), f) for f in files]).modules
    terms, aliases = glossary(modules)
    questions = [q for m in modules for q in generate_module_quiz(m, terms, aliases, num_questions=quiz_size(m))]

    assert len(questions) >= 15
    options = {o.lower() for q in questions for o in q.options.values()}
    assert not options & {"proof", "caveat lector", "solution", "hint"}
    assert not any(q.question_text.startswith(f"Fill in the blank: {BLANK}:") for q in questions)
    leaning = [q for q in questions if re.search(r"\b(this|these|those|such)\b", q.question_text, re.I)]
    assert leaning and all(q.needs_review for q in leaning)
    assert sum(not q.needs_review for q in questions) >= 0.6 * len(questions)
