"""Grading an attempt on the server and recording it: quiz_responses once, then user_progress."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, Quiz, QuizResponse, UserProgress
from tutor.identity import utcnow
from tutor.lti.grades import score_graded
from tutor.quiz.snapshot import AttemptQuestion


@dataclass(frozen=True)
class GradedQuestion:
    question_number: int
    given: str | None
    correct_answer: str
    is_correct: bool
    explanation: str | None


@dataclass(frozen=True)
class Grade:
    score: int  # percentage
    total_questions: int
    correct_answers: int
    passed: bool
    questions: list[GradedQuestion]


def grade(questions: list[AttemptQuestion], answers: dict[str, str], passing_score: int | None) -> Grade:
    """Every question of the quiz counts; an unanswered or skipped one is wrong."""
    graded = [
        GradedQuestion(
            q.question_number,
            answers.get(str(q.question_number)),
            q.correct_answer,
            answers.get(str(q.question_number)) == q.correct_answer,
            q.explanation,
        )
        for q in questions
    ]
    correct = sum(g.is_correct for g in graded)
    total = len(graded)
    score = round(100 * correct / total) if total else 0
    return Grade(score, total, correct, score >= (passing_score if passing_score is not None else 70), graded)


async def record_response(
    session: AsyncSession, *, quiz: Quiz, user_id: str, answers: dict[str, str], result: Grade, time_taken: int
) -> QuizResponse:
    response = QuizResponse(
        quiz_id=quiz.quiz_id,
        user_id=user_id,
        answers=answers,
        score=result.score,
        total_questions=result.total_questions,
        correct_answers=result.correct_answers,
        time_taken=time_taken,
    )
    session.add(response)
    await session.flush()
    if quiz.module_id is not None and quiz.quiz_type == "module":
        await record_module_result(session, user_id, quiz.course_id, quiz.module_id, result)
    # A student who came from an LMS: the score goes to its gradebook too, queued in this transaction.
    await score_graded(session, quiz=quiz, user_id=user_id, response_id=response.id, score=result.score)
    return response


async def record_module_result(
    session: AsyncSession, user_id: str, course_id: int, module_id: int, result: Grade
) -> None:
    """The module is completed once a score reaches the passing score; a later fail never undoes that."""
    now = utcnow()
    row = (
        await session.execute(
            select(UserProgress)
            .where(
                UserProgress.user_id == user_id,
                UserProgress.course_id == course_id,
                UserProgress.module_id == module_id,
                UserProgress.topic_id.is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        row = UserProgress(
            user_id=user_id,
            course_id=course_id,
            module_id=module_id,
            topic_id=None,
            status="not_started",
            progress_percentage=0,
        )
        session.add(row)
    if row.status == "completed" or result.passed:
        row.status = "completed"
        row.progress_percentage = 100
        row.completion_date = row.completion_date or now
    else:
        row.status = "in_progress"
        row.progress_percentage = max(row.progress_percentage or 0, min(result.score, 99))
    row.last_accessed = now
    await session.flush()
    await recompute_course_progress(session, user_id, course_id)


async def recompute_course_progress(session: AsyncSession, user_id: str, course_id: int) -> None:
    """The course-level row (module and topic NULL): the average of module progress over all modules."""
    total = int(
        await session.scalar(select(func.count()).select_from(Module).where(Module.course_id == course_id)) or 0
    )
    rows = (
        await session.execute(
            select(UserProgress.status, UserProgress.progress_percentage).where(
                UserProgress.user_id == user_id,
                UserProgress.course_id == course_id,
                UserProgress.module_id.is_not(None),
                UserProgress.topic_id.is_(None),
            )
        )
    ).all()
    completed = sum(1 for status, _ in rows if status == "completed")
    percentage = round(sum((p or 0) for _, p in rows) / total) if total else 0
    status = "completed" if total and completed == total else ("in_progress" if rows else "not_started")
    now = utcnow()
    stmt = insert(UserProgress).values(
        user_id=user_id,
        course_id=course_id,
        module_id=None,
        topic_id=None,
        status=status,
        progress_percentage=percentage,
        last_accessed=now,
        completion_date=now if status == "completed" else None,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="unique_user_progress",
            set_={
                "status": stmt.excluded.status,
                "progress_percentage": stmt.excluded.progress_percentage,
                "last_accessed": now,
                "completion_date": func.coalesce(UserProgress.completion_date, stmt.excluded.completion_date)
                if status == "completed"
                else None,
            },
        )
    )
