"""What is due for review, how the tutor says so, and the short quiz that reviews it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Quiz, QuizQuestion, ReviewCard, Topic
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


# One aggregate over the student's cards in the course: what is due now per topic, and the next due time (a page
# shows it when nothing is due). A student's cards in a course are a few hundred at most.
_DUE = text(
    """
    SELECT rc.topic_id, t.title, m.week,
           count(*) FILTER (WHERE rc.due <= :now) AS due_now, min(rc.due) FILTER (WHERE rc.due <= :now) AS first_due,
           min(rc.due) AS next_due
    FROM review_cards rc
    LEFT JOIN topics t ON t.id = rc.topic_id
    LEFT JOIN modules m ON m.id = t.module_id
    WHERE rc.user_id = :user_id AND rc.course_id = :course_id
    GROUP BY rc.topic_id, t.title, m.week
    """
)


@dataclass(frozen=True)
class DueCount:
    """A topic's cards (topic None: cards of no topic): how many are due now, and since when."""

    topic_id: int | None
    title: str | None
    week: int | None
    questions: int
    first_due: datetime | None


def summarize(counts: Iterable[DueCount], next_due: datetime | None, *, with_next: bool) -> DueSummary:
    """Due topics, the longest overdue first; `next_due` (the earliest card) only when nothing is due now."""
    due = sorted((c for c in counts if c.questions), key=lambda c: (c.first_due, c.topic_id is None, c.topic_id or 0))
    topics = [DueTopic(c.topic_id, c.title or "Other questions", c.week, c.questions) for c in due]
    return DueSummary(sum(t.questions for t in topics), topics, next_due if not topics and with_next else None)


async def due_summary(
    session: AsyncSession, *, user_id: str, course_id: int, now: datetime, with_next: bool = False
) -> DueSummary:
    """`with_next`: also when the next review falls due, if nothing is due now."""
    rows = (await session.execute(_DUE, {"user_id": user_id, "course_id": course_id, "now": now})).all()
    counts = [DueCount(r.topic_id, r.title, r.week, int(r.due_now), r.first_due) for r in rows]
    return summarize(counts, min((r.next_due for r in rows), default=None), with_next=with_next)


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
