"""Quiz attempts kept in PostgreSQL: one open per chat session, each question answered exactly once.

An attempt carries the questions it was started with (tutor.quiz.snapshot): it is asked and graded against
them whatever a teacher edits meanwhile.
"""

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
from tutor.quiz.snapshot import AttemptQuestion, snapshot

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


async def attempt_questions(session: AsyncSession, attempt: QuizAttempt) -> list[AttemptQuestion | None]:
    """The attempt's questions in the order asked. An attempt started before snapshots (questions NULL) reads
    the quiz's current rows by number: None where one has been deleted since."""
    if attempt.questions is not None:
        return [AttemptQuestion.from_json(q) for q in attempt.questions]
    live = {q.question_number: q for q in await questions_of(session, attempt.quiz_id)}
    return [AttemptQuestion.of(live[n]) if n in live else None for n in attempt.question_numbers]


async def start_attempt(
    session: AsyncSession, *, user_id: str, course_id: int, session_id: str, quiz: Quiz
) -> QuizAttempt:
    rows = await questions_of(session, quiz.quiz_id)
    numbers = [q.question_number for q in rows]
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
        questions=snapshot(rows),
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
    """The question at the attempt's position; None once every question is answered. A question deleted from an
    attempt without a snapshot is passed over (skipped), so the attempt never waits on a row that is gone."""
    questions = await attempt_questions(session, attempt)
    for _ in range(len(questions) + 1):  # each pass moves the position on, or finds the attempt closed
        if attempt.position > len(questions) or attempt.status not in OPEN:
            return None
        question = questions[attempt.position - 1]
        if question is not None:
            return AskedQuestion(
                attempt.quiz_id,
                attempt.position,
                len(questions),
                question.question_number,
                question.question_text,
                question.options,
                question.options.get(question.correct_answer, ""),
            )
        await _pass_over(session, attempt)
    return None


async def _pass_over(session: AsyncSession, attempt: QuizAttempt) -> None:
    """Move past a deleted question (unanswered: it is not graded); compare-and-set like an answer."""
    moved = await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.position == attempt.position, QuizAttempt.status.in_(OPEN))
        .values(position=attempt.position + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        attempt.position += 1
    else:
        await session.refresh(attempt)  # another tab moved it on, or finished it


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
    questions = [q for q in await attempt_questions(session, attempt) if q is not None]
    result = grade(questions, attempt.answers, quiz.passing_score)
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
