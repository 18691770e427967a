"""Quiz attempts kept in PostgreSQL: one open per chat session, each question answered exactly once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Quiz, QuizAttempt, QuizQuestion
from tutor.errors import ConflictError
from tutor.identity import utcnow
from tutor.quiz.grading import Grade, grade, record_response

OPEN = ("running", "paused")


@dataclass(frozen=True)
class AskedQuestion:
    quiz_id: str
    number: int  # 1-based position in this attempt
    total: int
    question_number: int
    text: str
    options: dict[str, str]
    # The correct option's text, never shown: a side question's answer must not give it away.
    withheld: str = ""


async def open_attempt(session: AsyncSession, session_id: str, *, for_update: bool = False) -> QuizAttempt | None:
    query = select(QuizAttempt).where(QuizAttempt.session_id == session_id, QuizAttempt.status.in_(OPEN))
    return (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()


async def questions_of(session: AsyncSession, quiz_id: str) -> list[QuizQuestion]:
    query = select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id).order_by(QuizQuestion.question_number)
    return list((await session.execute(query)).scalars())


async def start_attempt(
    session: AsyncSession, *, user_id: str, course_id: int, session_id: str, quiz: Quiz
) -> QuizAttempt:
    numbers = [q.question_number for q in await questions_of(session, quiz.quiz_id)]
    if not numbers:
        raise ConflictError("quiz_empty", f"the quiz {quiz.title!r} has no questions yet")
    now = utcnow()
    attempt = QuizAttempt(
        attempt_id=f"attempt_{uuid.uuid4().hex}",
        session_id=session_id,
        user_id=user_id,
        course_id=course_id,
        quiz_id=quiz.quiz_id,
        status="running",
        position=1,
        question_numbers=numbers,
        answers={},
        started_at=now,
        updated_at=now,
        deadline=now + timedelta(minutes=quiz.time_limit) if quiz.time_limit else None,
    )
    try:
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        raise ConflictError(
            "quiz_already_running", "a quiz is already running in this chat; finish or stop it first"
        ) from None
    return attempt


async def asked(session: AsyncSession, attempt: QuizAttempt) -> AskedQuestion | None:
    if attempt.position > len(attempt.question_numbers):
        return None
    number = attempt.question_numbers[attempt.position - 1]
    question = (
        await session.execute(
            select(QuizQuestion).where(QuizQuestion.quiz_id == attempt.quiz_id, QuizQuestion.question_number == number)
        )
    ).scalar_one()
    return AskedQuestion(
        attempt.quiz_id,
        attempt.position,
        len(attempt.question_numbers),
        number,
        question.question_text,
        question.options,
        question.options.get(question.correct_answer, ""),
    )


async def record_answer(session: AsyncSession, attempt: QuizAttempt, position: int, letter: str | None) -> bool:
    """Compare-and-set on the position: of two tabs answering the same question, only the first counts."""
    number = attempt.question_numbers[position - 1]
    answers = {**attempt.answers, **({str(number): letter} if letter else {})}
    result = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.position == position, QuizAttempt.status == "running")
        .values(position=position + 1, answers=answers, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    attempt.position, attempt.answers = position + 1, answers
    return True


async def set_status(session: AsyncSession, attempt: QuizAttempt, status: str) -> None:
    attempt.status = status
    attempt.updated_at = utcnow()
    await session.flush()


def timed_out(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    return attempt.deadline is not None and (now or utcnow()) >= attempt.deadline


async def finish(session: AsyncSession, attempt: QuizAttempt, quiz: Quiz) -> Grade | None:
    """Grade and record the attempt; None if another stream already finished it (recorded exactly once)."""
    claimed = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status.in_(OPEN))
        .values(status="finished", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    result = grade(await questions_of(session, quiz.quiz_id), attempt.answers, quiz.passing_score)
    elapsed = int((utcnow() - attempt.started_at).total_seconds())
    if attempt.deadline is not None:
        elapsed = min(elapsed, int((attempt.deadline - attempt.started_at).total_seconds()))
    response = await record_response(
        session, quiz=quiz, user_id=attempt.user_id, answers=attempt.answers, result=result, time_taken=elapsed
    )
    attempt.status, attempt.response_id = "finished", response.id
    await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id)
        .values(response_id=response.id)
        .execution_options(synchronize_session=False)
    )
    return result
