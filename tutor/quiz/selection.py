"""Which quiz a student asks for: a week's quiz, a practice quiz on a topic, or a quiz they tapped."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, Quiz, QuizQuestion
from tutor.errors import NotFoundError
from tutor.review.intent import is_review_request
from tutor.textutil import NAME_WORD

REQUEST = re.compile(
    r"\b(quiz|test|examine|practice questions?|check my (understanding|knowledge))\b.*\b(me|on|about|week|module|quiz)\b"
    r"|\b(start|take|begin|give me|do|try)\b.{0,20}\b(quiz|test)\b|\bquiz me\b|\btest me\b",
    re.I,
)
WEEK = re.compile(r"\b(?:week|module|unit|chapter)\s*(\d{1,3})\b", re.I)
TOPIC = re.compile(r"\b(?:on|about|covering|for)\s+(?:the\s+)?(.+?)\s*[?.!]*$", re.I)
# Words of a quiz request that are not its topic ("quiz me on the topic of ...").
REQUEST_WORDS = {"the", "a", "an", "of", "and", "to", "in", "on", "me", "my", "quiz", "test", "please", "some", "topic"}
PRACTICE_SIZE = 5


def is_quiz_request(message: str) -> bool:
    """A quiz asked for, including a review of what is due."""
    return bool(REQUEST.search(message)) or is_review_request(message)


@dataclass(frozen=True)
class QuizChoice:
    quiz: Quiz
    created_practice: bool


def _terms(text: str) -> set[str]:
    return {w for w in NAME_WORD.findall(text.lower()) if w not in REQUEST_WORDS and len(w) > 2}


async def choose_quiz(session: AsyncSession, course_id: int, message: str, quiz_id: str | None = None) -> QuizChoice:
    """The module's quiz for "week N", else a practice quiz from the course's questions on the topic."""
    if quiz_id:
        quiz = (
            await session.execute(select(Quiz).where(Quiz.quiz_id == quiz_id, Quiz.course_id == course_id))
        ).scalar_one_or_none()
        if quiz is None:
            raise NotFoundError("quiz_not_found", f"no quiz {quiz_id} in this course")
        return QuizChoice(quiz, False)
    week = WEEK.search(message)
    if week:
        quiz = (
            await session.execute(
                select(Quiz)
                .join(Module, Quiz.module_id == Module.id)
                .where(Module.course_id == course_id, Module.week == int(week.group(1)), Quiz.quiz_type == "module")
                .order_by(Quiz.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        if quiz is None:
            raise NotFoundError("quiz_not_found", f"week {week.group(1)} has no quiz in this course")
        return QuizChoice(quiz, False)
    topic_match = TOPIC.search(message)
    topic = topic_match.group(1) if topic_match else ""
    return QuizChoice(await practice_quiz(session, course_id, topic), True)


async def practice_quiz(session: AsyncSession, course_id: int, topic: str) -> Quiz:
    """A practice quiz (quiz_type 'practice') of the course's questions that best match the topic."""
    rows = (
        await session.execute(
            select(QuizQuestion, Quiz.module_id)
            .join(Quiz, QuizQuestion.quiz_id == Quiz.quiz_id)
            .where(Quiz.course_id == course_id, Quiz.quiz_type == "module")
            .order_by(Quiz.id, QuizQuestion.question_number)
        )
    ).all()
    if not rows:
        raise NotFoundError("quiz_not_found", "this course has no quiz questions yet")
    wanted = _terms(topic)
    if wanted:
        scored = []
        for question, _module in rows:
            words = _terms(" ".join([question.question_text, question.explanation or "", *question.options.values()]))
            overlap = len(wanted & words)
            if overlap:
                scored.append((overlap, question))
        if not scored:
            raise NotFoundError("quiz_not_found", f"the course has no quiz questions about {topic!r}")
        scored.sort(key=lambda pair: -pair[0])
        picked = [q for _, q in scored[:PRACTICE_SIZE]]
    else:
        # Spread over the course: every k-th question, so each week is represented.
        step = max(1, len(rows) // PRACTICE_SIZE)
        picked = [q for q, _ in rows[::step][:PRACTICE_SIZE]]
    title = f"Practice: {topic.strip()[:80]}" if wanted else "Practice quiz"
    quiz = Quiz(
        quiz_id=f"practice_{course_id}_{uuid.uuid4().hex[:10]}",
        course_id=course_id,
        module_id=None,
        title=title,
        description=f"{len(picked)} questions from the course",
        quiz_type="practice",
        passing_score=70,
    )
    session.add(quiz)
    await session.flush()
    for number, q in enumerate(picked, 1):
        session.add(
            QuizQuestion(
                quiz_id=quiz.quiz_id,
                question_number=number,
                question_text=q.question_text,
                options=q.options,
                correct_answer=q.correct_answer,
                explanation=q.explanation,
                difficulty=q.difficulty,
            )
        )
    await session.flush()
    return quiz
