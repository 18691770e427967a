"""Quiz reads, whole-attempt submissions and teachers' edits, with the rules of who may see answers."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Course, Quiz, QuizAttempt, QuizQuestion, QuizResponse
from tutor.courses import can_manage, visible_course
from tutor.edits import Edit
from tutor.errors import ConflictError, NotFoundError, TutorError
from tutor.identity import Principal, utcnow
from tutor.quiz.grading import Grade, grade, record_response
from tutor.quiz.snapshot import AttemptQuestion, snapshot
from tutor.quiz.validation import question_problems
from tutor.review.record import GradedAnswer, record_graded


class QuizInputError(TutorError):
    status = 422


async def quiz_for(
    session: AsyncSession, user: Principal, quiz_id: str, *, manage: bool = False
) -> tuple[Quiz, Course]:
    """The quiz if its course is visible (or manageable) to the user; 404 otherwise."""
    quiz = (await session.execute(select(Quiz).where(Quiz.quiz_id == quiz_id))).scalar_one_or_none()
    if quiz is None:
        raise NotFoundError("quiz_not_found", f"no quiz {quiz_id}")
    try:
        course = await visible_course(session, user, quiz.course_id, manage=manage)
    except NotFoundError:
        raise NotFoundError("quiz_not_found", f"no quiz {quiz_id}") from None
    return quiz, course


async def questions(session: AsyncSession, quiz_id: str, *, fresh: bool = False) -> list[QuizQuestion]:
    """`fresh` re-reads rows already in the session (after a bulk UPDATE such as a reorder)."""
    query = select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id).order_by(QuizQuestion.question_number)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return list((await session.execute(query)).scalars())


async def course_quizzes(session: AsyncSession, course_id: int) -> list[tuple[Quiz, int]]:
    counts = select(QuizQuestion.quiz_id, func.count().label("n")).group_by(QuizQuestion.quiz_id).subquery()
    rows = await session.execute(
        select(Quiz, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.quiz_id == Quiz.quiz_id)
        .where(Quiz.course_id == course_id, Quiz.made_for.is_(None))  # not a student's practice or review
        .order_by(Quiz.module_id.nulls_last(), Quiz.id)
    )
    return [(quiz, int(n)) for quiz, n in rows.all()]


@dataclass(frozen=True)
class Submission:
    response: QuizResponse
    result: Grade


async def submit_attempt(
    session: AsyncSession,
    user: Principal,
    quiz: Quiz,
    answers: dict[str, str],
    *,
    time_taken: int | None,
    attempt_key: str | None,
    now: datetime | None = None,
) -> Submission:
    """Grade a whole attempt on the server (a client's score is never trusted) and record it once.

    Every question counts for review and mastery, an unanswered one as missed. `now`: the review schedule's time.
    """
    qs = await questions(session, quiz.quiz_id)
    if not qs:
        raise ConflictError("quiz_empty", "this quiz has no questions")
    by_number = {str(q.question_number): q for q in qs}
    problems = [f"question {n} does not exist" for n in answers if n not in by_number]
    problems += [
        f"question {n}: {letter!r} is not one of its options"
        for n, letter in answers.items()
        if n in by_number and letter not in by_number[n].options
    ]
    if problems:
        raise QuizInputError("invalid_answers", "; ".join(problems))
    # Every submission keeps the questions as they were asked (analytics read its answers against them, whatever
    # a teacher reorders later); a key makes a resubmitted attempt (a retried POST) count once.
    attempt = QuizAttempt(
        attempt_id=rest_attempt_id(quiz.quiz_id, user.user_id, attempt_key) if attempt_key else f"rest:{uuid.uuid4()}",
        session_id=f"rest:{uuid.uuid4().hex}",
        user_id=user.user_id,
        course_id=quiz.course_id,
        quiz_id=quiz.quiz_id,
        status="finished",
        question_numbers=[q.question_number for q in qs],
        questions=snapshot(qs),
        answers=answers,
        position=len(qs) + 1,
    )
    try:
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        raise ConflictError("attempt_already_submitted", "this attempt was already submitted") from None
    result = grade([AttemptQuestion.of(q) for q in qs], answers, quiz.passing_score)
    response = await record_response(
        session, quiz=quiz, user_id=user.user_id, answers=answers, result=result, time_taken=time_taken or 0
    )
    attempt.response_id = response.id
    correct = {g.question_number: g.is_correct for g in result.questions}
    await record_graded(
        session,
        user_id=user.user_id,
        quiz=quiz,
        graded=[GradedAnswer(q, correct[q.question_number]) for q in qs],
        now=now or utcnow(),
    )
    return Submission(response, result)


def rest_attempt_id(quiz_id: str, user_id: str, attempt_key: str) -> str:
    """The attempt row's id for a REST submission's key: a digest of quiz, user and key together, so it fits the
    column whatever their lengths (a widget visitor's id alone is ~80 characters) and no two of them meet."""
    digest = hashlib.sha256(json.dumps([quiz_id, user_id, attempt_key]).encode()).hexdigest()
    return f"rest:{digest}"


async def responses(session: AsyncSession, user: Principal, quiz: Quiz, course: Course) -> list[QuizResponse]:
    query = (
        select(QuizResponse)
        .where(QuizResponse.quiz_id == quiz.quiz_id)
        .order_by(QuizResponse.submitted_at.desc(), QuizResponse.id.desc())
    )
    if not can_manage(user, course):
        query = query.where(QuizResponse.user_id == user.user_id)
    return list((await session.execute(query)).scalars())


def check_question(question_text: str, options: dict[str, str], correct_answer: str) -> None:
    problems = question_problems(question_text, options, correct_answer)
    if problems:
        raise QuizInputError("invalid_question", "; ".join(problems))


async def create_quiz(
    session: AsyncSession,
    course: Course,
    *,
    title: str,
    description: str | None,
    module_id: int | None,
    quiz_type: str,
    passing_score: int,
    time_limit: int | None,
) -> Quiz:
    quiz = Quiz(
        quiz_id=f"quiz_{course.course_id}_{uuid.uuid4().hex[:10]}",
        course_id=course.course_id,
        module_id=module_id,
        title=title,
        description=description,
        quiz_type=quiz_type,
        passing_score=passing_score,
        time_limit=time_limit,
    )
    session.add(quiz)
    await session.flush()
    return quiz


async def add_question(
    session: AsyncSession,
    quiz: Quiz,
    *,
    question_text: str,
    options: dict[str, str],
    correct_answer: str,
    explanation: str | None,
    difficulty: str | None,
    question_number: int | None,
) -> QuizQuestion:
    check_question(question_text, options, correct_answer)
    if question_number is None:
        last = await session.scalar(
            select(func.max(QuizQuestion.question_number)).where(QuizQuestion.quiz_id == quiz.quiz_id)
        )
        question_number = int(last or 0) + 1
    question = QuizQuestion(
        quiz_id=quiz.quiz_id,
        question_number=question_number,
        question_text=question_text,
        options=options,
        correct_answer=correct_answer,
        explanation=explanation,
        difficulty=difficulty,
    )
    try:
        async with session.begin_nested():
            session.add(question)
    except IntegrityError:
        raise ConflictError(
            "question_number_taken", f"question {question_number} already exists in this quiz"
        ) from None
    return question


async def question_of(session: AsyncSession, quiz: Quiz, number: int) -> QuizQuestion:
    q = (
        await session.execute(
            select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.quiz_id, QuizQuestion.question_number == number)
        )
    ).scalar_one_or_none()
    if q is None:
        raise NotFoundError("question_not_found", f"no question {number} in this quiz")
    return q


async def delete_question(session: AsyncSession, quiz: Quiz, number: int) -> None:
    await session.delete(await question_of(session, quiz, number))
    await session.flush()


async def reorder_questions(session: AsyncSession, quiz: Quiz, order: list[int]) -> None:
    """`order` lists every current question number in the new order; they are renumbered 1..n."""
    current = [q.question_number for q in await questions(session, quiz.quiz_id)]
    if sorted(order) != sorted(current) or len(set(order)) != len(order):
        raise QuizInputError("invalid_order", f"order must list each of the questions {sorted(current)} once")
    # Two steps through negative numbers, so the unique (quiz_id, question_number) holds throughout.
    for new, old in enumerate(order, 1):
        await session.execute(
            update(QuizQuestion)
            .where(QuizQuestion.quiz_id == quiz.quiz_id, QuizQuestion.question_number == old)
            .values(question_number=-new)
        )
    await session.execute(
        update(QuizQuestion)
        .where(QuizQuestion.quiz_id == quiz.quiz_id)
        .values(question_number=-QuizQuestion.question_number)
    )


async def delete_quiz(session: AsyncSession, quiz: Quiz) -> None:
    await session.execute(delete(Quiz).where(Quiz.id == quiz.id))


class QuizEdit(Edit):
    not_null: ClassVar[frozenset[str]] = frozenset({"title"})

    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = None
    passing_score: int | None = Field(None, ge=0, le=100)
    time_limit: int | None = Field(None, ge=1)


async def edit_quiz(session: AsyncSession, user: Principal, quiz_id: str, edit: QuizEdit) -> Quiz:
    quiz, _ = await quiz_for(session, user, quiz_id, manage=True)
    for name, value in edit.changes().items():
        setattr(quiz, name, value)
    await session.flush()
    return quiz


async def replace_question(
    session: AsyncSession,
    quiz: Quiz,
    number: int,
    *,
    question_text: str,
    options: dict[str, str],
    correct_answer: str,
    explanation: str | None,
    difficulty: str | None,
) -> QuizQuestion:
    """Question `number` gets new text, options, key, explanation and difficulty; its number stays."""
    question = await question_of(session, quiz, number)
    check_question(question_text, options, correct_answer)
    question.question_text, question.options, question.correct_answer = question_text, options, correct_answer
    question.explanation, question.difficulty = explanation, difficulty
    await session.flush()
    return question
