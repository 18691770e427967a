"""Quizzes written by the configured LLM: JSON asked for, validated, retried with the problems named.

A question is kept only if it passes the shared rules (four options, one correct letter) and its correct option is
grounded in the module's text; when the model cannot deliver, the caller falls back to the offline generator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ingestion.quizgen import QuestionDraft
from ingestion.structure import ModuleDraft
from tutor.llm.base import LLM, GenerationRequest, Message
from tutor.quiz.validation import question_problems
from tutor.textutil import EXERCISES, terms

MAX_CONTEXT_CHARS = 5000
TOPIC_SHARE = 800  # characters of a topic worth asking about: a paragraph or two
SYSTEM = (
    "You write multiple-choice quiz questions for a course, using only the course text you are given. "
    "Reply with JSON only, no prose."
)
INSTRUCTIONS = """Write {n} multiple-choice questions about the course text above. Reply with exactly this JSON shape:
{{"questions": [{{"question": "...", "options": {{"A": "...", "B": "...", "C": "...", "D": "..."}}, "answer": "A",
"explanation": "why the answer is right, citing the page like (p. 3)", "difficulty": "easy"}}]}}
Rules: four different options; exactly one is correct and stated in the text; difficulty is easy, medium or hard."""


@dataclass(frozen=True)
class Attempt:
    questions: list[QuestionDraft]
    problems: list[str]


def module_context(module: ModuleDraft) -> tuple[str, dict[int, str]]:
    """The module's text with page markers, within the prompt budget, and the source file of each page.

    A week is a whole chapter: its opening pages alone would leave the rest of it unasked. When the week is longer
    than the budget, each topic gets an equal share (of TOPIC_SHARE characters at least: a week of many topics is
    read at topics spread evenly from its first to its last), whole paragraphs first, a long one cut at a word.
    Exercises are prompts, not what the week teaches: left out unless the week has nothing else."""
    topics = [t for t in module.topics if t.paragraphs]
    topics = [t for t in topics if not EXERCISES.match(t.title)] or topics
    pieces = [[(f"[p. {p.page}] {p.text}", p.page) for p in t.paragraphs] for t in topics]
    most = max(1, MAX_CONTEXT_CHARS // TOPIC_SHARE)
    if sum(len(text) + 2 for topic in pieces for text, _ in topic) > MAX_CONTEXT_CHARS and len(topics) > most:
        picked = [round(i * (len(topics) - 1) / max(1, most - 1)) for i in range(most)]
        topics, pieces = [topics[i] for i in picked], [pieces[i] for i in picked]
    share = MAX_CONTEXT_CHARS // max(1, len(topics))
    parts: list[str] = []
    pages: dict[int, str] = {}
    for topic, texts in zip(topics, pieces, strict=True):
        size = 0
        for text, page in texts:
            if size + len(text) > share:
                if size == 0:  # the topic's first paragraph, cut to its share
                    parts.append(text[:share].rsplit(" ", 1)[0])
                    pages.setdefault(page, topic.source_file)
                break
            parts.append(text)
            pages.setdefault(page, topic.source_file)
            size += len(text) + 2
    return "\n\n".join(parts), pages


def json_object(reply: str) -> dict[str, Any] | str:
    """The JSON object in a model's reply (models wrap it in prose or fences), or what is wrong with the reply."""
    match = re.search(r"\{.*\}", reply, flags=re.S)
    if not match:
        return "the reply contained no JSON object"
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return "the reply was not valid JSON"
    return data if isinstance(data, dict) else "the reply was not a JSON object"


def parse(reply: str, module: ModuleDraft, context: str, pages: dict[int, str]) -> Attempt:
    data = json_object(reply)
    if isinstance(data, str):
        return Attempt([], [data])
    items = data.get("questions", [])
    text_terms = terms(context)
    kept: list[QuestionDraft] = []
    problems: list[str] = []
    for i, item in enumerate(items if isinstance(items, list) else [], 1):
        if not isinstance(item, dict):
            problems.append(f"question {i} is not an object")
            continue
        options = _options(item.get("options"))
        answer = str(item.get("answer", "")).strip().upper()[:1]
        question = str(item.get("question", "")).strip()
        found = question_problems(question, options, answer)
        if not found:
            wanted = terms(options[answer])
            if not wanted or len(wanted & text_terms) < 0.6 * len(wanted):
                found.append("the correct option is not stated in the text")
        if found:
            problems.append(f"question {i}: {'; '.join(found)}")
            continue
        explanation = str(item.get("explanation", "")).strip()
        cited = re.search(r"p\.\s*(\d+)", explanation)
        page = int(cited.group(1)) if cited and int(cited.group(1)) in pages else min(pages, default=1)
        source = pages.get(page, module.topics[0].source_file)
        if f"{source}, p." not in explanation:
            explanation = f"{explanation} ({source}, p. {page})".strip()
        difficulty = str(item.get("difficulty", "medium")).lower()
        kept.append(
            QuestionDraft(
                question_number=len(kept) + 1,
                question_text=question,
                options=options,
                correct_answer=answer,
                explanation=explanation,
                difficulty=difficulty if difficulty in ("easy", "medium", "hard") else "medium",
                source_file=source,
                page=page,
                topic_title=module.topics[0].title,
            )
        )
    return Attempt(kept, problems)


def _options(raw: object) -> dict[str, str]:
    """Options as letters to texts; small models also send a plain list (read as A, B, C, D) or other shapes."""
    if isinstance(raw, dict):
        return {str(k).strip().upper(): str(v).strip() for k, v in raw.items()}
    if isinstance(raw, list):
        return {letter: str(v).strip() for letter, v in zip("ABCDEFGH", raw, strict=False)}
    return {}


async def generate_with_llm(
    llm: LLM, module: ModuleDraft, *, num_questions: int = 5, attempts: int = 3
) -> list[QuestionDraft] | None:
    """Questions from the model, or None when it did not produce enough valid ones in `attempts` tries."""
    context, pages = module_context(module)
    if not context:
        return None
    messages = [
        Message("system", SYSTEM),
        Message("user", f"Course text:\n\n{context}\n\n{INSTRUCTIONS.format(n=num_questions)}"),
    ]
    best: list[QuestionDraft] = []
    for _ in range(attempts):
        request = GenerationRequest(messages, question="", max_tokens=900, temperature=0.3)
        reply = "".join([delta async for delta in llm.stream(request)])
        result = parse(reply, module, context, pages)
        if len(result.questions) > len(best):
            best = result.questions
        if len(best) >= num_questions:
            return best[:num_questions]
        # Tell the model what was wrong, and ask again.
        messages = [
            *messages,
            Message("assistant", reply[:3000]),
            Message(
                "user",
                "Some questions were invalid: "
                + "; ".join(result.problems[:6])
                + ". Reply again with corrected JSON only.",
            ),
        ]
    return best if len(best) >= max(1, num_questions // 2) else None
