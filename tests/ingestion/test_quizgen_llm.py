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
