"""The quoting tutor on real course text: Erickson's "Algorithms" chapters as parsed, SciQ's textbook paragraphs."""

from __future__ import annotations

import re
from functools import cache

import pytest

from ingestion.pdf import parse_pdf
from tests.conftest import SHARED
from tests.factories import sciq_items
from tutor.answers.quoting import NOT_FOUND, QuotingTutor
from tutor.embeddings import get_embedder
from tutor.llm.base import Passage
from tutor.settings import Settings

ERICKSON = SHARED / "data" / "erickson_algorithms"


@cache
def tutor() -> QuotingTutor:
    return QuotingTutor(get_embedder(Settings()))


@cache
def sections(filename: str) -> dict[str, str]:
    """Each section of a chapter as the chunker sees it: paragraphs separated by blank lines."""
    doc = parse_pdf((ERICKSON / filename).read_bytes(), filename)
    return {s.title: "\n\n".join(p.text for p in s.paragraphs) for s in doc.sections}


def passages(*texts: str) -> list[Passage]:
    return [Passage(i, text, f"notes.pdf p. {i}") for i, text in enumerate(texts, 1)]


def sentences_of(answer: str) -> list[str]:
    return [s.strip() for s in re.split(r"\s*\[\d+\]\s*", answer) if s.strip()]


def test_a_sentence_repeated_by_overlapping_chunks_is_quoted_once() -> None:
    support = sciq_items()[3]["support"]
    parts = re.split(r"(?<=\.)\s+", support)
    first, second = " ".join(parts[: len(parts) // 2 + 2]), " ".join(parts[len(parts) // 2 - 1 :])
    answer = tutor().answer(sciq_items()[3]["question"], passages(first, second, support))
    quoted = [q.text for q in answer.quotes]
    assert quoted and len(quoted) == len(set(quoted))
    assert len(sentences_of(answer.text())) == len(set(sentences_of(answer.text())))


def test_headings_labels_and_page_numbers_are_never_quoted_as_prose() -> None:
    item = sciq_items()[5]
    chunk = (
        f"Chapter 3\n\n3.2 Compounds with aluminum and\n\nFigure 3.4 The structure of a cell\n\n{item['support']}\n\n"
        "CHAPTER 3. CELLS\n\n57"
    )
    answer = tutor().answer(item["question"], passages(chunk))
    text = answer.text()
    assert answer.covered
    for label in ("Chapter 3", "Compounds with aluminum", "Figure 3.4", "CHAPTER 3", "57"):
        assert label not in text


def test_a_figure_caption_is_quoted_without_its_label() -> None:
    caption = (
        "Figure 6.12 Entropy is a measure of randomness or disorder in a system. Gases have higher entropy than "
        "liquids, and liquids have higher entropy than solids."
    )
    answer = tutor().answer(
        "What is a measure of randomness or disorder in a system?", passages(sciq_items()[5]["support"], caption)
    )
    assert answer.quotes[0].text == "Entropy is a measure of randomness or disorder in a system."
    assert "Figure 6.12" not in answer.text()


def test_a_sentence_of_three_words_is_quoted() -> None:
    chunk = (
        "Roundworms reproduce sexually. Sperm and eggs are produced by separate male and female adults. "
        "Fertilization takes place inside the female organism."
    )
    digestion = "A roundworm has a complete digestive system, which includes both a mouth and an anus."
    answer = tutor().answer("How do roundworms reproduce?", passages(digestion, chunk))
    assert answer.quotes[0].text == "Roundworms reproduce sexually."


def test_a_sentence_cut_by_a_page_break_is_quoted_whole() -> None:
    chunk = (
        "Some rockets use hydrazine as a fuel.\n\n"
        "Electrons are tiny, negatively charged particles in an atom that move around the positive\n\n"
        "nucleus at the center. Energy levels are a little like the steps of a staircase."
    )
    answer = tutor().answer("What are the tiny, negatively charged particles in an atom?", passages(chunk))
    assert answer.quotes[0].text == (
        "Electrons are tiny, negatively charged particles in an atom that move around the positive nucleus at the "
        "center."
    )


@pytest.mark.parametrize("first", [True, False])
def test_a_paragraph_that_opens_in_lower_case_is_quoted_when_nothing_unfinished_comes_before_it(first: bool) -> None:
    note = "critical density, the density needed to just halt universal expansion."
    before = "" if first else "Nuclear power plants use the energy they produce to heat water.\n\n"
    chunk = f"{before}{note}\n\nDensity is the ratio of the mass of an object to its volume."
    answer = tutor().answer("What is the density needed to just halt universal expansion called?", passages(chunk))
    assert answer.quotes[0].text == note


def test_a_line_in_lower_case_after_a_formula_is_not_quoted_as_a_sentence() -> None:
    chunk = (
        "The total work is the sum of the values of all nodes of the recursion tree.\n\n"
        "T(n) = r^L\n\n"
        "where L is the depth of the tree counted in levels of recursion."
    )
    answer = tutor().answer("What is L, the depth of the recursion tree?", passages(chunk))
    assert all(not q.text.startswith("where") for q in answer.quotes)


def test_a_lead_that_refers_back_is_quoted_with_the_sentence_that_names_what_it_refers_to() -> None:
    chunk = (
        "Crisscrossing the cytoplasm is a structure called the cytoskeleton. It consists of thread-like filaments "
        "and tubules. It helps the cell keep its shape. It also holds cell organelles in place within the cytoplasm."
    )
    answer = tutor().answer(
        "What part of the cell holds cell organelles in place within the cytoplasm?", passages(chunk)
    )
    assert answer.quotes[0].text.startswith("It also holds cell organelles")
    assert "a structure called the cytoskeleton" in answer.text()


def test_a_sentence_that_opens_a_chunk_is_cited_to_the_chunk_that_leads_up_to_it() -> None:
    lead_up = (
        "Pulmonary ventilation is dependent on three types of pressure: atmospheric, intra-alveolar, and interpleural."
    )
    answer_sentence = (
        "Atmospheric pressure is the amount of force that is exerted by gases in the air surrounding any given surface."
    )
    overlap = f"{answer_sentence} Air pressure falls from sea level to the top of the atmosphere."
    answer = tutor().answer(
        "What type of pressure is the amount of force that is exerted by gases in the air surrounding any surface?",
        passages(overlap, f"{lead_up} {answer_sentence}"),
    )
    assert answer.quotes[0].text == answer_sentence and answer.quotes[0].number == 2


@pytest.mark.parametrize(
    ("question", "items", "answered_by"),
    [
        (
            "What is the process in which a substance naturally moves from an area of higher to lower concentration "
            "called?",
            (118, 581, 149, 336),
            "The process is called diffusion",
        ),
        ("What predatory mammal is the fastest land animal on earth?", (199, 502), "the cheetah wins"),
    ],
)
def test_a_sentence_that_restates_the_question_is_quoted_with_what_the_course_says_next(
    question: str, items: tuple[int, ...], answered_by: str
) -> None:
    answer = tutor().answer(question, passages(*(sciq_items()[i]["support"] for i in items)))
    assert answered_by in answer.text()


def test_a_definition_question_starts_with_the_defining_sentence() -> None:
    recursion = sections("01-recursion.pdf")
    context = [recursion["Simplify and Delegate"], recursion["Reductions"], recursion["Tower of Hanoi"]]
    answer = tutor().answer("What is recursion?", passages(*context))
    assert answer.kind == "definition"
    assert answer.quotes[0].text.startswith("Recursion is a particularly powerful kind of reduction")
    assert answer.quotes[0].number == 1
    assert len(answer.quotes) <= 3 and all(f"[{q.number}]" in answer.text() for q in answer.quotes)


def test_a_how_question_shows_the_passage_code() -> None:
    recursion = sections("01-recursion.pdf")
    answer = tutor().answer("How do I solve the Tower of Hanoi puzzle?", passages(recursion["Tower of Hanoi"]))
    assert any(q.code and "Hanoi(n" in q.text for q in answer.quotes)
    assert "```" in answer.text()


def test_a_how_question_starts_with_the_numbered_steps_whole_then_shows_the_code() -> None:
    answer = tutor().answer("How does mergesort work?", passages(sections("01-recursion.pdf")["Mergesort"]))
    steps = answer.quotes[0].text
    assert steps.startswith("1. Divide the input array into two subarrays") and "3. Merge the newly-sorted" in steps
    assert any(q.code and "MergeSort(" in q.text for q in answer.quotes[1:])


def test_a_difference_question_quotes_both_sides() -> None:
    dfs = sections("06-dfs.pdf")
    greedy = sections("04-greedy.pdf")
    context = [*dfs.values(), *greedy.values()][:6]
    answer = tutor().answer("What is the difference between preorder and postorder?", passages(*context))
    text = answer.text().lower()
    assert answer.kind == "difference"
    assert "preorder" in text and "postorder" in text


def test_a_question_the_passages_do_not_answer_is_declined() -> None:
    answer = tutor().answer("Who won the football world cup in 1998?", passages(sciq_items()[0]["support"]))
    assert not answer.covered and answer.text() == NOT_FOUND


@pytest.mark.parametrize("item", range(0, 40, 4))
def test_a_sciq_answer_starts_with_a_sentence_of_the_course(item: int) -> None:
    question = sciq_items()[item]
    answer = tutor().answer(question["question"], passages(question["support"]))
    flat = " ".join(question["support"].split())
    assert answer.quotes and answer.quotes[0].text in flat


def test_an_exercise_prompt_is_not_quoted_as_the_explanation_unless_exercises_are_asked_about() -> None:
    """Erickson's exercises name the chapter's subjects as often as its text does ("Consider the following more
    complex variant of the Tower of Hanoi puzzle"); a student asking how to solve the puzzle wants the chapter."""
    text = sections("01-recursion.pdf")
    variant = next(p for p in text["Exercises"].split("\n\n") if "more complex variant of the Tower of Hanoi" in p)
    exercise = Passage(1, variant, "01-recursion.pdf p. 44", "Exercises (part 2)")
    chapter = Passage(2, text["Tower of Hanoi"], "01-recursion.pdf p. 5", "Tower of Hanoi")

    answer = tutor().answer("How do I solve the Tower of Hanoi puzzle?", [exercise, chapter])
    assert answer.covered and {q.number for q in answer.quotes} == {2}

    asked = tutor().answer("Which exercise is a more complex variant of the Tower of Hanoi?", [exercise, chapter])
    assert 1 in {q.number for q in asked.quotes}
