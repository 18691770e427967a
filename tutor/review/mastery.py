"""A student's mastery of a topic: Bayesian knowledge tracing over every graded answer on it.

Knowledge tracing (Corbett & Anderson) keeps P(known) per topic: a right answer raises it unless it was a
guess, a wrong one lowers it unless it was a slip, and each answer is also a chance to learn. With four
options, a guess is right one time in four.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Module, ReviewCard, Topic, TopicMastery

P_INIT = 0.2  # before any answer: most students start a topic not knowing it
P_LEARN = 0.1  # the chance an answer (and its feedback) teaches the topic
P_GUESS = 0.25  # four options
P_SLIP = 0.1  # knew it, answered wrong anyway


def traced(p_known: float, correct: bool) -> float:
    """P(known) after one answer."""
    if correct:
        seen = p_known * (1 - P_SLIP) / (p_known * (1 - P_SLIP) + (1 - p_known) * P_GUESS)
    else:
        seen = p_known * P_SLIP / (p_known * P_SLIP + (1 - p_known) * (1 - P_GUESS))
    return min(1.0, max(0.0, seen + (1 - seen) * P_LEARN))


@dataclass(frozen=True)
class Answered:
    topic_id: int
    correct: bool


async def update_mastery(
    session: AsyncSession, *, user_id: str, course_id: int, answers: list[Answered], now: datetime
) -> None:
    """Apply the answers in order; rows are locked in topic order, so two submissions of one student queue."""
    topic_ids = sorted({a.topic_id for a in answers})
    if not topic_ids:
        return
    # First answers on a topic: the rows exist before they are locked, also when two submissions race.
    await session.execute(
        insert(TopicMastery)
        .values(
            [
                {"user_id": user_id, "course_id": course_id, "topic_id": t, "mastery": P_INIT, "updated_at": now}
                for t in topic_ids
            ]
        )
        .on_conflict_do_nothing(constraint="uq_mastery_user_topic")
    )
    rows = {
        row.topic_id: row
        for row in (
            await session.execute(
                select(TopicMastery)
                .where(TopicMastery.user_id == user_id, TopicMastery.topic_id.in_(topic_ids))
                .order_by(TopicMastery.topic_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    }
    for answer in answers:
        row = rows[answer.topic_id]
        row.mastery = traced(row.mastery, answer.correct)
        row.answers += 1
        row.correct += int(answer.correct)
        row.updated_at = now
    await session.flush()


@dataclass(frozen=True)
class TopicMasteryOf:
    user_id: str
    topic_id: int
    topic_title: str
    module_id: int
    week: int
    mastery: float  # P(known), 0..1
    answers: int
    correct: int
    due_questions: int  # of this topic, due for review now
    updated_at: datetime


async def course_mastery(
    session: AsyncSession, *, course_id: int, now: datetime, user_id: str | None = None
) -> list[TopicMasteryOf]:
    """Every student's (or one student's) mastery per topic of the course, by student, week and topic."""
    due = (
        select(func.count())
        .where(
            ReviewCard.user_id == TopicMastery.user_id,
            ReviewCard.topic_id == TopicMastery.topic_id,
            ReviewCard.due <= now,
        )
        .scalar_subquery()
    )
    query = (
        select(
            TopicMastery.user_id,
            TopicMastery.topic_id,
            Topic.title,
            Module.id,
            Module.week,
            TopicMastery.mastery,
            TopicMastery.answers,
            TopicMastery.correct,
            due,
            TopicMastery.updated_at,
        )
        .join(Topic, Topic.id == TopicMastery.topic_id)
        .join(Module, Module.id == Topic.module_id)
        .where(TopicMastery.course_id == course_id)
        .order_by(TopicMastery.user_id, Module.week, Topic.order_index, Topic.id)
    )
    if user_id is not None:
        query = query.where(TopicMastery.user_id == user_id)
    return [
        TopicMasteryOf(u, t, title, m, week, round(float(p), 3), n, c, int(d), at)
        for u, t, title, m, week, p, n, c, d, at in (await session.execute(query)).all()
    ]
