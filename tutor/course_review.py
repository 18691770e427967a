"""A teacher fixing a generated course: move weeks and topics one place, edit and review quiz questions.

Each change is a row change the chat reads on its next turn: what students see changes at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, CourseChunk, Module, Quiz, QuizQuestion, Topic
from tutor.courses import reorder_modules, reorder_topics
from tutor.identity import utcnow
from tutor.quiz import service as quiz_service
from tutor.quiz.service import question_of

Direction = Literal["up", "down"]


def _moved(ids: list[int], item: int, direction: Direction) -> list[int]:
    i = ids.index(item)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    return ids


async def move_module(session: AsyncSession, course: Course, module: Module, direction: Direction) -> None:
    """One place earlier or later; the weeks are renumbered 1..n in the new order."""
    ids = list(
        (
            await session.execute(
                select(Module.id).where(Module.course_id == course.course_id).order_by(Module.week, Module.id)
            )
        ).scalars()
    )
    await reorder_modules(session, course, _moved(ids, module.id, direction))


async def move_topic(session: AsyncSession, module: Module, topic: Topic, direction: Direction) -> None:
    ids = list(
        (
            await session.execute(
                select(Topic.id).where(Topic.module_id == module.id).order_by(Topic.order_index, Topic.id)
            )
        ).scalars()
    )
    await reorder_topics(session, module, _moved(ids, topic.id, direction))


async def replace_question(
    session: AsyncSession,
    quiz: Quiz,
    number: int,
    *,
    question_text: str,
    options: dict[str, str],
    correct_answer: str,
    explanation: str,
) -> QuizQuestion:
    """A teacher's edit is a review: the question counts as checked from now on."""
    old = await question_of(session, quiz, number)
    question = await quiz_service.replace_question(
        session,
        quiz,
        number,
        question_text=question_text.strip(),
        options={letter: text.strip() for letter, text in options.items() if text.strip()},
        correct_answer=correct_answer,
        explanation=explanation.strip() or None,
        difficulty=old.difficulty,
    )
    question.reviewed_at = utcnow()
    await session.flush()
    return question


async def mark_reviewed(session: AsyncSession, quiz: Quiz, number: int) -> None:
    question = await question_of(session, quiz, number)
    question.reviewed_at = utcnow()
    await session.flush()


async def flagged_questions(session: AsyncSession, course_id: int) -> set[tuple[str, int]]:
    """(quiz id, question number) of generated questions of low confidence that no teacher has checked yet."""
    rows = await session.execute(
        select(QuizQuestion.quiz_id, QuizQuestion.question_number)
        .join(Quiz, Quiz.quiz_id == QuizQuestion.quiz_id)
        .where(Quiz.course_id == course_id, QuizQuestion.needs_review, QuizQuestion.reviewed_at.is_(None))
    )
    return {(quiz_id, int(number)) for quiz_id, number in rows.all()}


async def reviewed_questions(session: AsyncSession, course_id: int) -> set[tuple[str, int]]:
    """(quiz id, question number) of every question of the course a teacher has checked."""
    rows = await session.execute(
        select(QuizQuestion.quiz_id, QuizQuestion.question_number)
        .join(Quiz, Quiz.quiz_id == QuizQuestion.quiz_id)
        .where(Quiz.course_id == course_id, QuizQuestion.reviewed_at.is_not(None))
    )
    return {(quiz_id, int(number)) for quiz_id, number in rows.all()}


@dataclass(frozen=True)
class TopicSource:
    """Where a topic's text came from: its file and the first and last page its chunks cite."""

    topic_id: int
    file_id: str
    filename: str
    page_start: int
    page_end: int


async def topic_sources(session: AsyncSession, course_id: int) -> dict[int, TopicSource]:
    """Each topic's source file and page span, from its chunks (a topic drawn from two files: the earlier pages)."""
    rows = await session.execute(
        select(
            CourseChunk.topic_id,
            CourseChunk.file_id,
            CourseChunk.filename,
            func.min(CourseChunk.page_start),
            func.max(CourseChunk.page_end),
        )
        .where(CourseChunk.course_id == course_id, CourseChunk.topic_id.is_not(None))
        .group_by(CourseChunk.topic_id, CourseChunk.file_id, CourseChunk.filename)
        .order_by(CourseChunk.topic_id, func.min(CourseChunk.page_start))
    )
    found: dict[int, TopicSource] = {}
    for topic_id, file_id, filename, first, last in rows.all():
        if topic_id is not None:
            found.setdefault(topic_id, TopicSource(topic_id, file_id, filename, int(first), int(last)))
    return found
