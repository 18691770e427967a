"""Which topic a quiz question is about: the topic whose text shares the most words with it."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, QuizQuestion, Topic

WORD = re.compile(r"[a-z]{4,}")


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


async def topics_of(
    session: AsyncSession, course_id: int, questions: list[tuple[QuizQuestion, int | None]]
) -> dict[int, int | None]:
    """Question id -> topic id, for (question, module id of its quiz) pairs; None when no topic shares a word.

    A module quiz's question is matched within its module's topics (generated questions quote them).
    """
    if not questions:
        return {}
    rows = (
        await session.execute(
            select(Topic.id, Topic.module_id, Topic.title, Topic.content)
            .join(Module, Topic.module_id == Module.id)
            .where(Module.course_id == course_id)
            .order_by(Topic.id)
        )
    ).all()
    words = {topic_id: (module_id, _words(f"{title} {content}")) for topic_id, module_id, title, content in rows}
    found: dict[int, int | None] = {}
    for question, module_id in questions:
        wanted = _words(f"{question.question_text} {question.explanation or ''}")
        in_module = [t for t, (m, _) in words.items() if m == module_id]
        best = max(in_module or list(words), key=lambda t: len(wanted & words[t][1]), default=None)
        # A week of one topic owns its quiz's questions, whatever their words.
        found[question.id] = best if best is not None and (wanted & words[best][1] or len(in_module) == 1) else None
    return found
