"""What is due for review, how the tutor says so, and the short quiz that reviews it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, Quiz, QuizQuestion, ReviewCard, Topic
from tutor.errors import NotFoundError

REVIEW_SIZE = 5


@dataclass(frozen=True)
class DueTopic:
    topic_id: int | None
    title: str  # "Other questions" for questions matched to no topic
    week: int | None
    questions: int


@dataclass(frozen=True)
class DueSummary:
    questions: int
    topics: list[DueTopic]
    next_due: datetime | None  # the earliest time something is due, when nothing is due now


async def due_summary(
    session: AsyncSession, *, user_id: str, course_id: int, now: datetime, with_next: bool = False
) -> DueSummary:
    """`with_next`: also when the next review falls due, if nothing is due now (a second query)."""
    rows = (
        await session.execute(
            select(ReviewCard.topic_id, Topic.title, Module.week, func.count(), func.min(ReviewCard.due))
            .outerjoin(Topic, Topic.id == ReviewCard.topic_id)
            .outerjoin(Module, Module.id == Topic.module_id)
            .where(ReviewCard.user_id == user_id, ReviewCard.course_id == course_id, ReviewCard.due <= now)
            .group_by(ReviewCard.topic_id, Topic.title, Module.week)
            .order_by(func.min(ReviewCard.due), ReviewCard.topic_id)
        )
    ).all()
    topics = [DueTopic(t, title or "Other questions", week, int(n)) for t, title, week, n, _ in rows]
    next_due = None
    if not topics and with_next:
        next_due = await session.scalar(
            select(func.min(ReviewCard.due)).where(ReviewCard.user_id == user_id, ReviewCard.course_id == course_id)
        )
    return DueSummary(sum(t.questions for t in topics), topics, next_due)


def announcement(due: DueSummary) -> str:
    """What the tutor says at the start of a session, e.g. "2 topics to review: Osmosis (week 1), …"."""
    n = len(due.topics)
    names = ", ".join(f"{t.title} (week {t.week})" if t.week is not None else t.title for t in due.topics)
    what = f"{n} topic{'s' if n != 1 else ''} to review"
    return (
        f"{what}: {names} — {due.questions} question{'s' if due.questions != 1 else ''} due. "
        "Say “review” for a short quiz on them."
    )


async def review_quiz(session: AsyncSession, *, user_id: str, course_id: int, now: datetime) -> Quiz:
    """A practice quiz of the most overdue questions; its answers reschedule the originals."""
    due = (
        await session.execute(
            select(QuizQuestion, Topic.title)
            .join(ReviewCard, ReviewCard.question_id == QuizQuestion.id)
            .outerjoin(Topic, Topic.id == ReviewCard.topic_id)
            .where(ReviewCard.user_id == user_id, ReviewCard.course_id == course_id, ReviewCard.due <= now)
            .order_by(ReviewCard.due, ReviewCard.id)
            .limit(REVIEW_SIZE)
        )
    ).all()
    if not due:
        summary = await due_summary(session, user_id=user_id, course_id=course_id, now=now, with_next=True)
        if summary.next_due is None:
            raise NotFoundError("nothing_to_review", "there is nothing to review yet: answer a quiz first")
        raise NotFoundError(
            "nothing_due",
            f"nothing is due for review now; the next review is due {summary.next_due:%d %B at %H:%M} UTC",
        )
    titles = list(dict.fromkeys(title for _, title in due if title))
    quiz = Quiz(
        quiz_id=f"review_{course_id}_{uuid.uuid4().hex[:10]}",
        course_id=course_id,
        module_id=None,
        title=("Review: " + ", ".join(titles))[:500] if titles else "Review",
        description=f"{len(due)} questions due for review",
        quiz_type="practice",
        passing_score=70,
        made_for=user_id,  # the student's, not the course's: kept out of its quiz lists
    )
    session.add(quiz)
    await session.flush()
    for number, (q, _) in enumerate(due, 1):
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
