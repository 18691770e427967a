"""LLM-written quizzes are kept only when valid and grounded; the rest is named so the model can retry."""

from __future__ import annotations

import json

from ingestion.pdf import Paragraph
from ingestion.quizgen_llm import module_context, parse
from ingestion.structure import ModuleDraft, TopicDraft

TEXT = "Osmosis is the diffusion of water across a semipermeable membrane. The nucleus holds the cell's DNA."


def _module() -> ModuleDraft:
    topic = TopicDraft("Cells", TEXT, 1, 1, "cells.pdf", 3, 3, [Paragraph(TEXT, 3)])
    return ModuleDraft(1, "Cells", "", [], [topic])


def _reply(*questions: dict[str, object]) -> str:
    return "Here you go:\n```json\n" + json.dumps({"questions": list(questions)}) + "\n```"


GOOD = {"question": "What holds the cell's DNA?", "answer": "B", "difficulty": "easy",
        "options": {"A": "the membrane", "B": "the nucleus", "C": "the ribosome", "D": "the wall"},
        "explanation": "The text says the nucleus holds the DNA (p. 3)."}  # fmt: skip


def test_a_valid_grounded_question_is_kept_with_its_page_citation() -> None:
    module = _module()
    context, pages = module_context(module)
    result = parse(_reply(GOOD), module, context, pages)
    assert result.problems == []
    (q,) = result.questions
    assert q.correct_answer == "B" and q.page == 3 and "(cells.pdf, p. 3)" in q.explanation


def test_invalid_or_ungrounded_questions_are_named_and_dropped() -> None:
    module = _module()
    context, pages = module_context(module)
    three_options = {**GOOD, "options": {"A": "x", "B": "the nucleus", "C": "y"}}
    wrong_letter = {**GOOD, "answer": "E"}
    invented = {**GOOD, "answer": "D", "options": {**GOOD["options"], "D": "the golgi apparatus"}}  # type: ignore[dict-item]
    result = parse(_reply(three_options, wrong_letter, invented), module, context, pages)
    assert result.questions == []
    assert len(result.problems) == 3 and "not stated in the text" in result.problems[2]
    assert parse("I cannot help with that.", module, context, pages).problems == ["the reply contained no JSON object"]


def test_a_week_named_by_the_model_is_kept_only_when_drawn_from_its_text() -> None:
    from ingestion.weeks_llm import parse_week

    context, _ = module_context(_module())
    good = {
        "title": "Osmosis and the nucleus",
        "summary": "Water diffuses across a semipermeable membrane by osmosis. The nucleus holds the cell's DNA.",
        "learning_objectives": ["Explain osmosis across a semipermeable membrane", "Say where the cell's DNA is held"],
    }
    writing, problems = parse_week("Sure!\n" + json.dumps(good), context)
    assert problems == [] and writing is not None
    assert writing.title == "Osmosis and the nucleus" and len(writing.learning_objectives) == 2

    invented = {**good, "title": "Quantum chromodynamics of gluons", "learning_objectives": ["Explain osmosis"]}
    writing, problems = parse_week(json.dumps(invented), context)
    assert writing is None
    assert "the title must use the text's own terms" in problems
    assert "give 2 to 5 learning objectives about the text" in problems
    assert parse_week("no json here", context) == (None, ["the reply contained no JSON object"])


def test_options_sent_as_a_list_are_read_as_letters_and_other_shapes_are_named() -> None:
    module = _module()
    context, pages = module_context(module)
    as_list = {**GOOD, "options": ["the membrane", "the nucleus", "the ribosome", "the wall"]}
    as_text = {**GOOD, "options": "A) the membrane B) the nucleus"}
    result = parse(_reply(as_list, as_text), module, context, pages)
    assert [q.options["B"] for q in result.questions] == ["the nucleus"]
    assert len(result.problems) == 1 and result.problems[0].startswith("question 2")


def test_the_model_reads_a_long_week_from_its_first_topic_to_its_last_not_its_exercises() -> None:
    """A week is a whole chapter: the prompt samples its topics evenly instead of stopping after its first pages."""
    from ingestion.quizgen_llm import MAX_CONTEXT_CHARS

    def topic(n: int, title: str) -> TopicDraft:
        text = f"Topic {n} explains idea number {n} at length. " * 30  # ~1,300 characters
        return TopicDraft(title, text, n, 1, "book.pdf", n, n, [Paragraph(text, n)])

    topics = [topic(n, f"Section {n}") for n in range(1, 13)] + [topic(13, "Exercises (part 1)")]
    context, pages = module_context(ModuleDraft(1, "Chapter", "", [], topics))

    assert len(context) <= MAX_CONTEXT_CHARS
    assert "Topic 1 explains" in context and "Topic 12 explains" in context
    assert "Topic 13" not in context and 13 not in pages
    assert len({n for n in range(1, 13) if f"Topic {n} explains" in context}) >= 5
