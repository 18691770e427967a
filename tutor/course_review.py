"""A teacher fixing a generated course: edit texts, move weeks and topics, edit and review quiz questions.

Each change is a row change the chat reads on its next turn: what students see changes at once.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, Module, Quiz, QuizQuestion, SourceFile, Topic
from tutor.courses import reorder_modules, reorder_topics, visible_course
from tutor.errors import NotFoundError, TutorError
from tutor.identity import Principal, utcnow
from tutor.quiz.service import check_question, question_of

Direction = Literal["up", "down"]


class ReviewInputError(TutorError):
    status = 422


def _title(value: str) -> str:
    value = value.strip()
    if not value:
        raise ReviewInputError("title_required", "a title cannot be empty")
    if len(value) > 500:
        raise ReviewInputError("title_too_long", "a title has at most 500 characters")
    return value


def edit_course(course: Course, *, title: str, description: str) -> None:
    course.title = _title(title)
    course.description = description.strip() or None
    course.updated_at = utcnow()


def edit_module(module: Module, *, title: str, description: str, objectives: str) -> None:
    """`objectives` one per line, as the form's text area holds them."""
    module.title = _title(title)
    module.description = description.strip() or None
    module.learning_objectives = [line.strip() for line in objectives.splitlines() if line.strip()]


def edit_topic(topic: Topic, *, title: str, content: str) -> None:
    if not content.strip():
        raise ReviewInputError("content_required", "a topic's content cannot be empty: delete text, not all of it")
    topic.title = _title(title)
    topic.content = content.strip()


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
    question = await question_of(session, quiz, number)
    options = {letter: text.strip() for letter, text in options.items() if text.strip()}
    check_question(question_text.strip(), options, correct_answer)
    question.question_text = question_text.strip()
    question.options = options
    question.correct_answer = correct_answer
    question.explanation = explanation.strip() or None
    question.reviewed_at = utcnow()
    await session.flush()
    return question


async def mark_reviewed(session: AsyncSession, quiz: Quiz, number: int) -> None:
    question = await question_of(session, quiz, number)
    question.reviewed_at = utcnow()
    await session.flush()


async def reviewed_questions(session: AsyncSession, course_id: int) -> set[tuple[str, int]]:
    """(quiz id, question number) of every question of the course a teacher has checked."""
    rows = await session.execute(
        select(QuizQuestion.quiz_id, QuizQuestion.question_number)
        .join(Quiz, Quiz.quiz_id == QuizQuestion.quiz_id)
        .where(Quiz.course_id == course_id, QuizQuestion.reviewed_at.is_not(None))
    )
    return {(quiz_id, int(number)) for quiz_id, number in rows.all()}


async def managed_file(session: AsyncSession, user: Principal, file_id: str) -> SourceFile:
    """A source file of a course this user manages; 404 otherwise."""
    found = (await session.execute(select(SourceFile).where(SourceFile.file_id == file_id))).scalar_one_or_none()
    try:
        if found is None:
            raise NotFoundError("file_not_found", f"no file {file_id}")
        await visible_course(session, user, found.course_id, manage=True)
    except NotFoundError:
        raise NotFoundError("file_not_found", f"no file {file_id}") from None
    return found
