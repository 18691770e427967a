"""Every graded answer, from a chat quiz or a REST submission: the question's review card and the topic's mastery.

Practice and review quizzes are copies of a course's questions; their answers count for the original, so
a question has one schedule per student however it was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Quiz, QuizQuestion, ReviewCard
from tutor.review.mastery import Answered, update_mastery
from tutor.review.schedule import due_of, reviewed
from tutor.review.topics import topics_of

COPIES = ("practice",)


@dataclass(frozen=True)
class GradedAnswer:
    question: QuizQuestion
    correct: bool


async def _originals(
    session: AsyncSession, quiz: Quiz, questions: list[QuizQuestion]
) -> dict[int, tuple[QuizQuestion, int | None]]:
    """Question id -> (the question it was copied from, or itself; its quiz's module)."""
    if quiz.quiz_type not in COPIES:
        return {q.id: (q, quiz.module_id) for q in questions}
    rows = (
        await session.execute(
            select(QuizQuestion, Quiz.module_id)
            .join(Quiz, QuizQuestion.quiz_id == Quiz.quiz_id)
            .where(
                Quiz.course_id == quiz.course_id,
                Quiz.quiz_type.not_in(COPIES),
                QuizQuestion.question_text.in_({q.question_text for q in questions}),
            )
            .order_by(QuizQuestion.id)
        )
    ).all()
    found: dict[int, tuple[QuizQuestion, int | None]] = {}
    for q in questions:
        same = next(
            (
                (o, m)
                for o, m in rows
                if o.question_text == q.question_text
                and o.correct_answer == q.correct_answer
                and o.options == q.options
            ),
            None,
        )
        found[q.id] = same or (q, quiz.module_id)
    return found


async def record_graded(
    session: AsyncSession, *, user_id: str, quiz: Quiz, graded: list[GradedAnswer], now: datetime
) -> None:
    if not graded:
        return
    originals = await _originals(session, quiz, [g.question for g in graded])
    ids = sorted({originals[g.question.id][0].id for g in graded})
    known = dict(
        (
            await session.execute(
                select(ReviewCard.question_id, ReviewCard.topic_id).where(
                    ReviewCard.user_id == user_id, ReviewCard.question_id.in_(ids)
                )
            )
        ).all()
    )
    fresh = [originals[g.question.id] for g in graded if originals[g.question.id][0].id not in known]
    topics = {**known, **await topics_of(session, quiz.course_id, fresh)}
    if fresh:
        # The rows exist before they are locked, also when two first answers race.
        await session.execute(
            insert(ReviewCard)
            .values(
                [
                    {
                        "user_id": user_id,
                        "course_id": quiz.course_id,
                        "question_id": q.id,
                        "topic_id": topics[q.id],
                        "card": {},
                        "due": now,
                    }
                    for q, _ in {q.id: (q, m) for q, m in fresh}.values()
                ]
            )
            .on_conflict_do_nothing(constraint="uq_review_user_question")
        )
    cards = {
        card.question_id: card
        for card in (
            await session.execute(
                select(ReviewCard)
                .where(ReviewCard.user_id == user_id, ReviewCard.question_id.in_(ids))
                .order_by(ReviewCard.question_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    }
    for g in graded:
        card = cards[originals[g.question.id][0].id]
        card.card = reviewed(card.card or None, card.question_id, g.correct, now)
        card.due = due_of(card.card)
        card.reviews += 1
        card.lapses += int(not g.correct)
        card.last_correct = g.correct
        card.last_reviewed_at = now
    await session.flush()
    answered = [
        Answered(topic, g.correct) for g in graded if (topic := topics.get(originals[g.question.id][0].id)) is not None
    ]
    await update_mastery(session, user_id=user_id, course_id=quiz.course_id, answers=answered, now=now)
