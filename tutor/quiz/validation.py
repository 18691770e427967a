"""Rules every multiple-choice question obeys, whoever wrote it: generator, LLM or teacher."""

from __future__ import annotations

from collections.abc import Mapping

LETTERS = ("A", "B", "C", "D")


def question_problems(question_text: str, options: Mapping[str, str], correct_answer: str) -> list[str]:
    problems = []
    if not question_text.strip():
        problems.append("the question text is empty")
    if sorted(options) != list(LETTERS):
        problems.append("options must be exactly A, B, C and D")
    texts = [str(v).strip() for v in options.values()]
    if any(not t for t in texts):
        problems.append("every option needs text")
    if len({t.lower() for t in texts}) != len(texts):
        problems.append("options must differ from each other")
    if correct_answer not in options:
        problems.append(f"the correct answer {correct_answer!r} is not one of the options")
    return problems
